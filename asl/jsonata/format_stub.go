package jsonata

func fnFormatNumber(c *call, a []any) (any, *Error)  { return nil, &Error{Code: "D3999"} }
func fnFormatBase(c *call, a []any) (any, *Error)    { return nil, &Error{Code: "D3999"} }
func fnFormatInteger(c *call, a []any) (any, *Error) { return nil, &Error{Code: "D3999"} }
func fnParseInteger(c *call, a []any) (any, *Error)  { return nil, &Error{Code: "D3999"} }
func fnToMillis(c *call, a []any) (any, *Error)      { return nil, &Error{Code: "D3999"} }
func fnFromMillis(c *call, a []any) (any, *Error)    { return nil, &Error{Code: "D3999"} }
func fnNow(c *call, a []any) (any, *Error)           { return nil, &Error{Code: "D3999"} }
