package jsonata

// Array, object and higher-order functions.

import "math"

func fnMap(c *call, a []any) (any, *Error) {
	x := arr(a[0])
	if x == nil {
		return Undefined, nil
	}
	res := newSeq()
	for i, v := range x.items {
		r, err := c.callFn(a[1], hofArgs(a[1], v, float64(i), x)...)
		if err != nil {
			return nil, err
		}
		if !isUndef(r) {
			res.items = append(res.items, r)
		}
	}
	return res, nil
}

func fnFilter(c *call, a []any) (any, *Error) {
	x := arr(a[0])
	if x == nil {
		return Undefined, nil
	}
	res := newSeq()
	for i, v := range x.items {
		r, err := c.callFn(a[1], hofArgs(a[1], v, float64(i), x)...)
		if err != nil {
			return nil, err
		}
		b, err := toBoolean(r)
		if err != nil {
			return nil, err
		}
		if b == true {
			res.items = append(res.items, v)
		}
	}
	return res, nil
}

func fnSingle(c *call, a []any) (any, *Error) {
	x := arr(a[0])
	if x == nil {
		return Undefined, nil
	}
	found := false
	var result any = Undefined
	for i, v := range x.items {
		pos := true
		if !isUndef(a[1]) {
			r, err := c.callFn(a[1], hofArgs(a[1], v, float64(i), x)...)
			if err != nil {
				return nil, err
			}
			b, err := toBoolean(r)
			if err != nil {
				return nil, err
			}
			pos = b == true
		}
		if pos {
			if found {
				return nil, &Error{Code: "D3138", info: &errInfo{index: i}}
			}
			result = v
			found = true
		}
	}
	if !found {
		return nil, &Error{Code: "D3139"}
	}
	return result, nil
}

func fnReduce(c *call, a []any) (any, *Error) {
	x := arr(a[0])
	if x == nil {
		return Undefined, nil
	}
	n := arity(a[1])
	if n < 2 {
		return nil, &Error{Code: "D3050", info: &errInfo{index: 1}}
	}
	var result any
	i := 0
	if isUndef(a[2]) && len(x.items) > 0 {
		result = x.items[0]
		i = 1
	} else {
		result = a[2]
	}
	for ; i < len(x.items); i++ {
		args := []any{result, x.items[i]}
		if n >= 3 {
			args = append(args, float64(i))
		}
		if n >= 4 {
			args = append(args, x)
		}
		r, err := c.callFn(a[1], args...)
		if err != nil {
			return nil, err
		}
		result = r
	}
	return result, nil
}

func fnSift(c *call, a []any) (any, *Error) {
	o, ok := a[0].(*object)
	if !ok {
		return Undefined, nil
	}
	res := newObject()
	for i, k := range o.keys {
		v := o.vals[i]
		r, err := c.callFn(a[1], hofArgs(a[1], v, k, o)...)
		if err != nil {
			return nil, err
		}
		b, err := toBoolean(r)
		if err != nil {
			return nil, err
		}
		if b == true {
			res.set(k, v)
		}
	}
	if len(res.keys) == 0 {
		return Undefined, nil
	}
	return res, nil
}

func fnEach(c *call, a []any) (any, *Error) {
	o, ok := a[0].(*object)
	res := newSeq()
	if !ok {
		return res, nil
	}
	for i, k := range o.keys {
		r, err := c.callFn(a[1], hofArgs(a[1], o.vals[i], k, o)...)
		if err != nil {
			return nil, err
		}
		if !isUndef(r) {
			res.items = append(res.items, r)
		}
	}
	return res, nil
}

func fnKeys(v any) any {
	res := newSeq()
	switch t := v.(type) {
	case *array:
		merged := newObject()
		for _, item := range t.items {
			ks := fnKeys(item)
			for _, k := range stepInput(ks) {
				merged.set(k.(string), true)
			}
			if s, ok := ks.(string); ok {
				merged.set(s, true)
			}
		}
		return fnKeys(merged)
	case *object:
		for _, k := range t.keys {
			res.items = append(res.items, k)
		}
	}
	return res
}

func fnSpread(v any) any {
	switch t := v.(type) {
	case *array:
		var res any = newSeq()
		for _, item := range t.items {
			res = fnAppend(res, fnSpread(item))
		}
		return res
	case *object:
		res := newSeq()
		for i, k := range t.keys {
			o := newObject()
			o.set(k, t.vals[i])
			res.items = append(res.items, o)
		}
		return res
	}
	return v
}

func fnZip(c *call, a []any) (any, *Error) {
	res := newArray(nil)
	if len(a) == 0 {
		return res, nil
	}
	n := math.MaxInt
	for _, v := range a {
		x := arr(v)
		if x == nil {
			n = 0
			break
		}
		n = min(n, len(x.items))
	}
	for i := 0; i < n; i++ {
		t := make([]any, len(a))
		for j, v := range a {
			t[j] = arr(v).items[i]
		}
		res.items = append(res.items, newArray(t))
	}
	return res, nil
}

func fnSort(c *call, a []any) (any, *Error) {
	x := arr(a[0])
	if x == nil {
		return Undefined, nil
	}
	if len(x.items) <= 1 {
		return x, nil
	}
	var swap func(p, q any) (bool, *Error)
	if isUndef(a[1]) {
		if isArrayOfNumbers(x) {
			swap = func(p, q any) (bool, *Error) { return p.(float64) > q.(float64), nil }
		} else if isArrayOfStrings(x) {
			swap = func(p, q any) (bool, *Error) { return compareStrings(p.(string), q.(string)) > 0, nil }
		} else {
			return nil, &Error{Code: "D3070", info: &errInfo{index: 1}}
		}
	} else {
		swap = func(p, q any) (bool, *Error) {
			r, err := c.callFn(a[1], p, q)
			if err != nil {
				return false, err
			}
			return jsTruthy(r), nil
		}
	}
	out, err := mergeSort(append([]any(nil), x.items...), swap)
	if err != nil {
		return nil, err
	}
	return newArray(out), nil
}

// cloneValue is $clone: JSON.parse(JSON.stringify(v)).
func cloneValue(v any) any {
	switch t := v.(type) {
	case *array:
		out := make([]any, 0, len(t.items))
		for _, e := range t.items {
			if isFunction(e) || isUndef(e) {
				out = append(out, nil)
				continue
			}
			out = append(out, cloneValue(e))
		}
		return newArray(out)
	case *object:
		o := newObject()
		for i, k := range t.keys {
			e := t.vals[i]
			if isFunction(e) || isUndef(e) {
				continue
			}
			o.set(k, cloneValue(e))
		}
		return o
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return nil
		}
	}
	return v
}
