package asl

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/duro-dev/duro/asl/jsonv"
)

type valueKind int

const (
	kindInt valueKind = iota
	kindNumber
	kindString
	kindTimestamp
)

// dynField compiles a field that has a literal form (key) and a JSONPath form (pathKey); in
// JSONata mode the literal form may be an expression.
func (c *compiler) dynField(st *state, o *jsonv.Object, loc, key, pathKey string, kind valueKind) dyn {
	d := dyn{name: key}
	v, hasLit := o.Get(key)
	pv, hasPath := o.Get(pathKey)
	if hasLit && hasPath && pathKey != "" {
		c.errf(codeSchema, loc, "A state cannot have both '%s' and '%s'", key, pathKey)
		return d
	}
	if hasPath && st.ql == JSONPath {
		s, ok := pv.(string)
		if !ok {
			c.errf(codeSchema, loc+"/"+pathKey, "The value for the field '%s' must be a STRING", pathKey)
			return d
		}
		if kind == kindString && intrinsicLike(s) {
			t := c.compileDynamicString(s, loc+"/"+pathKey, pathKey)
			return dyn{set: true, expr: t, name: pathKey}
		}
		r, err := parseRef(s)
		if err != nil {
			c.errf(codeSchema, loc+"/"+pathKey, "The value for the field '%s' must be a valid JSONPath: %v", pathKey, err)
			return d
		}
		return dyn{set: true, ref: r, name: pathKey}
	}
	if !hasLit {
		return d
	}
	d.set = true
	if s, ok := v.(string); ok && st.ql == JSONata && isExprString(s) {
		d.expr = c.compileJSONataTemplate(s, loc+"/"+key)
		return d
	}
	if msg := checkKind(v, kind, key); msg != "" {
		c.errf(codeSchema, loc+"/"+key, "%s", msg)
	}
	d.lit = v
	return d
}

func intrinsicLike(s string) bool { return strings.HasPrefix(s, "States.") }

func checkKind(v any, kind valueKind, key string) string {
	switch kind {
	case kindInt:
		n, ok := intValue(v)
		if !ok || n < 0 {
			return fmt.Sprintf("The value for the field '%s' must be a non-negative INTEGER", key)
		}
	case kindNumber:
		n, ok := v.(jsonv.Number)
		if !ok {
			return fmt.Sprintf("The value for the field '%s' must be a NUMBER", key)
		}
		if f := mustFloat(n); f < 0 || f > 100 {
			return fmt.Sprintf("The value for the field '%s' must be between 0 and 100", key)
		}
	case kindString:
		if _, ok := v.(string); !ok {
			return fmt.Sprintf("The value for the field '%s' must be a STRING", key)
		}
	case kindTimestamp:
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("The value for the field '%s' must be a STRING", key)
		}
		if _, ok := parseTimestamp(s); !ok {
			return fmt.Sprintf("The value for the field '%s' must be an ISO-8601 extended offset date-time", key)
		}
	}
	return ""
}

func (c *compiler) task(st *state, o *jsonv.Object, loc string) {
	st.resource, _ = c.str(o, "Resource", loc, true)
	if _, ok := o.Get("Resource"); ok && st.resource == "" {
		c.errf(codeInvalidResource, loc+"/Resource", "The value for the field 'Resource' must not be empty")
	}
	st.timeoutSeconds = c.dynField(st, o, loc, "TimeoutSeconds", "TimeoutSecondsPath", kindInt)
	st.heartbeatSeconds = c.dynField(st, o, loc, "HeartbeatSeconds", "HeartbeatSecondsPath", kindInt)
	if t, ok := intValue(st.timeoutSeconds.lit); ok && t == 0 {
		c.errf(codeSchema, loc+"/TimeoutSeconds", "The value for the field 'TimeoutSeconds' must be a positive INTEGER")
	}
	if h, ok := intValue(st.heartbeatSeconds.lit); ok {
		if h == 0 {
			c.errf(codeSchema, loc+"/HeartbeatSeconds", "The value for the field 'HeartbeatSeconds' must be a positive INTEGER")
		}
		if t, ok := intValue(st.timeoutSeconds.lit); ok && h >= t {
			c.errf(codeSchema, loc+"/HeartbeatSeconds", "The value for the field 'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'")
		}
	}
	if v, ok := o.Get("Credentials"); ok {
		if st.ql == JSONata {
			st.credentials = c.compileJSONataTemplate(v, loc+"/Credentials")
		} else {
			st.credentials = c.compileJSONPathTemplate(v, loc+"/Credentials")
		}
	}
}

func (c *compiler) wait(st *state, o *jsonv.Object, loc string) {
	st.seconds = c.dynField(st, o, loc, "Seconds", "SecondsPath", kindInt)
	st.timestamp = c.dynField(st, o, loc, "Timestamp", "TimestampPath", kindTimestamp)
	n := 0
	for _, k := range []string{"Seconds", "Timestamp", "SecondsPath", "TimestampPath"} {
		if _, ok := o.Get(k); ok {
			n++
		}
	}
	if n != 1 {
		c.errf(codeSchema, loc, "A Wait state must have exactly one of 'Seconds', 'Timestamp', 'SecondsPath' or 'TimestampPath'")
	}
}

func (c *compiler) parallel(st *state, o *jsonv.Object, loc string) {
	v, ok := o.Get("Branches")
	arr, isArr := v.([]any)
	if !ok || !isArr || len(arr) == 0 {
		c.errf(codeSchema, loc+"/Branches", "The field 'Branches' must be a non-empty ARRAY")
		return
	}
	for i, b := range arr {
		bloc := fmt.Sprintf("%s/Branches/%d", loc, i)
		bo, ok := b.(*jsonv.Object)
		if !ok {
			c.errf(codeSchema, bloc, "A branch must be an OBJECT")
			continue
		}
		c.fields(bo, bloc, bodyFields, set("QueryLanguage"))
		st.branches = append(st.branches, c.body(bo, bloc, st.ql, false))
	}
}

func (c *compiler) mapState(st *state, o *jsonv.Object, loc string) {
	procKey := "ItemProcessor"
	pv, hasProc := o.Get("ItemProcessor")
	if iv, hasIter := o.Get("Iterator"); hasIter {
		if hasProc {
			c.errf(codeSchema, loc, "A Map state cannot have both 'ItemProcessor' and 'Iterator'")
		}
		pv, hasProc, procKey = iv, true, "Iterator"
	}
	ploc := loc + "/" + procKey
	po, ok := pv.(*jsonv.Object)
	if !hasProc || !ok {
		c.errf(codeSchema, ploc, "The field 'ItemProcessor' is required and must be an OBJECT")
	} else {
		c.fields(po, ploc, bodyFields, nil)
		if cfg, ok := po.Get("ProcessorConfig"); ok {
			co, ok := cfg.(*jsonv.Object)
			if !ok {
				c.errf(codeSchema, ploc+"/ProcessorConfig", "The value for the field 'ProcessorConfig' must be an OBJECT")
			} else {
				c.fields(co, ploc+"/ProcessorConfig", set("Mode", "ExecutionType"), nil)
				if m, ok := co.Get("Mode"); ok {
					switch m {
					case "INLINE":
					case "DISTRIBUTED":
						st.distributed = true
					default:
						c.errf(codeSchema, ploc+"/ProcessorConfig/Mode", "The value for the field 'Mode' must be one of INLINE, DISTRIBUTED")
					}
				}
				if e, ok := co.Get("ExecutionType"); ok && e != "STANDARD" && e != "EXPRESS" {
					c.errf(codeSchema, ploc+"/ProcessorConfig/ExecutionType", "The value for the field 'ExecutionType' must be one of STANDARD, EXPRESS")
				}
			}
		}
		st.processor = c.body(po, ploc, st.ql, st.distributed)
		if st.distributed {
			st.childMachine = &Machine{top: st.processor, definition: po}
		}
	}
	if st.ql == JSONPath {
		if s, ok := c.str(o, "ItemsPath", loc, false); ok {
			r, err := parseRef(s)
			if err != nil {
				c.errf(codeSchema, loc+"/ItemsPath", "The value for the field 'ItemsPath' must be a valid JSONPath: %v", err)
			}
			st.itemsPath = r
		}
	} else if v, ok := o.Get("Items"); ok {
		st.items = c.compileJSONataTemplate(v, loc+"/Items")
		if _, isArr := v.([]any); !isArr {
			if s, isStr := v.(string); !isStr || !isExprString(s) {
				c.errf(codeSchema, loc+"/Items", "The value for the field 'Items' must be an ARRAY or a JSONata expression")
			}
		}
	}
	if v, ok := o.Get("ItemSelector"); ok {
		if _, dup := o.Get("Parameters"); dup {
			c.errf(codeSchema, loc, "A Map state cannot have both 'ItemSelector' and 'Parameters'")
		}
		if st.ql == JSONata {
			st.itemSelector = c.compileJSONataTemplate(v, loc+"/ItemSelector")
		} else {
			st.itemSelector = c.compileJSONPathTemplate(v, loc+"/ItemSelector")
		}
	} else if v, ok := o.Get("Parameters"); ok && st.ql == JSONPath {
		st.itemSelector = c.compileJSONPathTemplate(v, loc+"/Parameters")
	}
	st.maxConcurrency = c.dynField(st, o, loc, "MaxConcurrency", "MaxConcurrencyPath", kindInt)
	st.tolPercent = c.dynField(st, o, loc, "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", kindNumber)
	st.tolCount = c.dynField(st, o, loc, "ToleratedFailureCount", "ToleratedFailureCountPath", kindInt)
	if v, ok := o.Get("ItemBatcher"); ok {
		bo, ok := v.(*jsonv.Object)
		if !ok {
			c.errf(codeSchema, loc+"/ItemBatcher", "The value for the field 'ItemBatcher' must be an OBJECT")
		} else {
			c.fields(bo, loc+"/ItemBatcher", set("MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch",
				"MaxInputBytesPerBatchPath", "BatchInput"), nil)
			b := &batcher{
				maxItems: c.dynField(st, bo, loc+"/ItemBatcher", "MaxItemsPerBatch", "MaxItemsPerBatchPath", kindInt),
				maxBytes: c.dynField(st, bo, loc+"/ItemBatcher", "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath", kindInt),
			}
			if bi, ok := bo.Get("BatchInput"); ok {
				if st.ql == JSONata {
					b.batchInput = c.compileJSONataTemplate(bi, loc+"/ItemBatcher/BatchInput")
				} else {
					b.batchInput = c.compileJSONPathTemplate(bi, loc+"/ItemBatcher/BatchInput")
				}
			}
			if !b.maxItems.set && !b.maxBytes.set {
				c.errf(codeSchema, loc+"/ItemBatcher", "An ItemBatcher must set MaxItemsPerBatch or MaxInputBytesPerBatch")
			}
			st.itemBatcher = b
		}
	}
	st.itemReader = c.ioSpec(st, o, "ItemReader", loc, set("Resource", "ReaderConfig", "Parameters", "Arguments"))
	st.resultWriter = c.ioSpec(st, o, "ResultWriter", loc, set("Resource", "Parameters", "Arguments", "WriterConfig"))
	if s, ok := c.str(o, "Label", loc, false); ok {
		st.label = s
		if utf8.RuneCountInString(s) > 40 {
			c.errf(codeSchema, loc+"/Label", "The value for the field 'Label' must be at most 40 characters")
		}
	}
	if !st.distributed {
		for _, k := range []string{"ItemReader", "ResultWriter", "ItemBatcher", "ToleratedFailurePercentage",
			"ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label"} {
			if _, ok := o.Get(k); ok {
				c.errf(codeSchema, loc+"/"+k, "The field '%s' is supported only by a Map state in DISTRIBUTED mode", k)
			}
		}
	}
}

func (c *compiler) ioSpec(st *state, o *jsonv.Object, key, loc string, allowed fieldSet) *ioSpec {
	v, ok := o.Get(key)
	if !ok {
		return nil
	}
	io, ok := v.(*jsonv.Object)
	if !ok {
		c.errf(codeSchema, loc+"/"+key, "The value for the field '%s' must be an OBJECT", key)
		return nil
	}
	c.fields(io, loc+"/"+key, allowed, nil)
	spec := &ioSpec{}
	spec.resource, _ = c.str(io, "Resource", loc+"/"+key, true)
	if p, ok := io.Get("Parameters"); ok {
		spec.parameters = c.compileJSONPathTemplate(p, loc+"/"+key+"/Parameters")
	}
	if p, ok := io.Get("Arguments"); ok {
		spec.parameters = c.compileJSONataTemplate(p, loc+"/"+key+"/Arguments")
	}
	spec.config, _ = io.Get("ReaderConfig")
	if spec.config == nil {
		spec.config, _ = io.Get("WriterConfig")
	}
	return spec
}

func (c *compiler) errorEquals(o *jsonv.Object, loc string) []string {
	v, ok := o.Get("ErrorEquals")
	arr, isArr := v.([]any)
	if !ok || !isArr || len(arr) == 0 {
		c.errf(codeSchema, loc+"/ErrorEquals", "The field 'ErrorEquals' must be a non-empty ARRAY of STRING")
		return nil
	}
	var out []string
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			c.errf(codeSchema, fmt.Sprintf("%s/ErrorEquals/%d", loc, i), "An error name must be a STRING")
			continue
		}
		if s == ErrAll && len(arr) > 1 {
			c.errf(codeSchema, fmt.Sprintf("%s/ErrorEquals/%d", loc, i), "States.ALL must appear alone in 'ErrorEquals'")
		}
		out = append(out, s)
	}
	return out
}

func (c *compiler) retriers(o *jsonv.Object, loc string) []retrier {
	v, ok := o.Get("Retry")
	if !ok {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		c.errf(codeSchema, loc+"/Retry", "The value for the field 'Retry' must be an ARRAY")
		return nil
	}
	var out []retrier
	for i, e := range arr {
		rloc := fmt.Sprintf("%s/Retry/%d", loc, i)
		ro, ok := e.(*jsonv.Object)
		if !ok {
			c.errf(codeSchema, rloc, "A retrier must be an OBJECT")
			continue
		}
		c.fields(ro, rloc, set("ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment"), nil)
		r := retrier{errorEquals: c.errorEquals(ro, rloc), intervalSeconds: 1, maxAttempts: 3, backoffRate: 2.0}
		if containsAll(r.errorEquals) && i != len(arr)-1 {
			c.errf(codeSchema, rloc+"/ErrorEquals", "A retrier with States.ALL must be the last retrier")
		}
		if v, ok := ro.Get("IntervalSeconds"); ok {
			n, ok := intValue(v)
			if !ok || n < 1 || n > 99999999 {
				c.errf(codeSchema, rloc+"/IntervalSeconds", "The value for the field 'IntervalSeconds' must be a positive INTEGER")
			}
			r.intervalSeconds = n
		}
		if v, ok := ro.Get("MaxAttempts"); ok {
			n, ok := intValue(v)
			if !ok || n < 0 || n > 99999999 {
				c.errf(codeSchema, rloc+"/MaxAttempts", "The value for the field 'MaxAttempts' must be a non-negative INTEGER")
			}
			r.maxAttempts = n
		}
		if v, ok := ro.Get("BackoffRate"); ok {
			n, ok := v.(jsonv.Number)
			f := mustFloat(n)
			if !ok || !(f >= 1.0) {
				c.errf(codeSchema, rloc+"/BackoffRate", "The value for the field 'BackoffRate' must be a NUMBER greater than or equal to 1.0")
			}
			r.backoffRate = f
		}
		if v, ok := ro.Get("MaxDelaySeconds"); ok {
			n, ok := intValue(v)
			if !ok || n < 1 || n > 31622400 {
				c.errf(codeSchema, rloc+"/MaxDelaySeconds", "The value for the field 'MaxDelaySeconds' must be a positive INTEGER")
			}
			r.maxDelaySeconds = n
		}
		if v, ok := ro.Get("JitterStrategy"); ok {
			switch v {
			case "FULL":
				r.jitterFull = true
			case "NONE":
			default:
				c.errf(codeSchema, rloc+"/JitterStrategy", "The value for the field 'JitterStrategy' must be one of FULL, NONE")
			}
		}
		out = append(out, r)
	}
	return out
}

func containsAll(names []string) bool {
	for _, n := range names {
		if n == ErrAll {
			return true
		}
	}
	return false
}

func (c *compiler) catchers(st *state, o *jsonv.Object, loc string) []catcher {
	v, ok := o.Get("Catch")
	if !ok {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		c.errf(codeSchema, loc+"/Catch", "The value for the field 'Catch' must be an ARRAY")
		return nil
	}
	var out []catcher
	for i, e := range arr {
		cloc := fmt.Sprintf("%s/Catch/%d", loc, i)
		co, ok := e.(*jsonv.Object)
		if !ok {
			c.errf(codeSchema, cloc, "A catcher must be an OBJECT")
			continue
		}
		allowed := set("ErrorEquals", "Next", "ResultPath", "Assign", "Comment")
		if st.ql == JSONata {
			allowed = set("ErrorEquals", "Next", "Output", "Assign", "Comment")
		}
		c.fields(co, cloc, allowed, nil)
		k := catcher{errorEquals: c.errorEquals(co, cloc), queryLanguage: st.ql}
		if containsAll(k.errorEquals) && i != len(arr)-1 {
			c.errf(codeSchema, cloc+"/ErrorEquals", "A catcher with States.ALL must be the last catcher")
		}
		k.next, _ = c.str(co, "Next", cloc, true)
		if rp, ok := co.Get("ResultPath"); ok && st.ql == JSONPath {
			k.resultPath = c.resultPath(rp, cloc+"/ResultPath")
		}
		if out, ok := co.Get("Output"); ok && st.ql == JSONata {
			k.output = c.compileJSONataTemplate(out, cloc+"/Output")
		}
		if a, ok := co.Get("Assign"); ok {
			k.assign = c.assign(a, cloc+"/Assign", st.ql)
		}
		out = append(out, k)
	}
	return out
}
