package asl

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/duro-dev/duro/asl/jsonv"
)

// chainDefinition is n states alternating Pass (which counts) and Choice (which tests the count).
func chainDefinition(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		next := fmt.Sprintf("S%d", i+1)
		if i == n-1 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Succeed"}`, i)
			break
		}
		if i%2 == 0 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Parameters":{"i.$":"States.MathAdd($.i, 1)","tag":"p%d"},"Next":%q}`, i, i, next)
		} else {
			fmt.Fprintf(&b, `"S%d":{"Type":"Choice","Choices":[{"Variable":"$.i","NumericLessThan":0,"Next":"Fail"},{"And":[{"Variable":"$.tag","IsString":true},{"Variable":"$.i","NumericGreaterThanEquals":0}],"Next":%q}],"Default":"Fail"}`, i, next)
		}
	}
	b.WriteString(`,"Fail":{"Type":"Fail","Error":"Unexpected"}}}`)
	return b.String()
}

// BenchmarkChain1000 runs a 1,000-state Pass/Choice chain; transitions/s counts state entries.
func BenchmarkChain1000(b *testing.B) {
	m := mustCompile(b, chainDefinition(1000))
	input := mustParse(b, `{"i":0}`)
	b.ReportAllocs()
	b.ResetTimer()
	transitions := 0
	for i := 0; i < b.N; i++ {
		x, _ := m.Start(testConfig(input))
		if x.Status() != StatusSucceeded {
			name, cause := x.Error()
			b.Fatalf("%s: %s", name, cause)
		}
		transitions += countTransitions(x)
	}
	b.ReportMetric(float64(transitions)/b.Elapsed().Seconds(), "transitions/s")
}

// BenchmarkMap10000 runs an inline Map over 10,000 items, each iteration a Task (fed back by the
// in-memory runner, 40 at a time) followed by a Pass.
func BenchmarkMap10000(b *testing.B) {
	m := mustCompile(b, `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",
	 "ItemSelector":{"n.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},
	 "ItemProcessor":{"StartAt":"T","States":{
	   "T":{"Type":"Task","Resource":"r","ResultPath":"$.r","Next":"P"},
	   "P":{"Type":"Pass","Parameters":{"v.$":"$.r.n"},"End":true}}},"End":true}}}`)
	items := make([]any, 10000)
	for i := range items {
		items[i] = jsonv.NumberFromInt(int64(i))
	}
	input := obj("items", items)
	echo := TaskFunc(func(_ context.Context, t *TaskCommand) TaskResult { return TaskResult{Output: t.Input} })
	b.ReportAllocs()
	b.ResetTimer()
	transitions := 0
	for i := 0; i < b.N; i++ {
		x, err := (&Runner{Tasks: echo}).Run(context.Background(), m, testConfig(input))
		if err != nil || x.Status() != StatusSucceeded {
			b.Fatalf("run: %v %v", err, x.Status())
		}
		transitions += countTransitions(x)
	}
	b.ReportMetric(float64(transitions)/b.Elapsed().Seconds(), "transitions/s")
}

// countTransitions counts state entries, which is what Step Functions bills as state transitions.
func countTransitions(x *Execution) int {
	n := 0
	for _, e := range x.History() {
		if strings.HasSuffix(e.Type, "StateEntered") {
			n++
		}
	}
	return n
}
