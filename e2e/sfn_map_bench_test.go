package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfnsdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/duro-dev/duro/internal/clock"
	"github.com/duro-dev/duro/internal/server"
)

// BenchmarkSFNInlineMap runs inline Maps of 1,000 and 10,000 Pass items durably, start to
// SUCCEEDED: time per item should stay flat as the Map grows (the decider is never
// re-serialized; markers hold only new events).
//
//	go test ./e2e/ -run '^$' -bench SFNInlineMap -benchtime 3x
func BenchmarkSFNInlineMap(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			items := make([]int, n)
			for i := range items {
				items[i] = i
			}
			input, _ := json.Marshal(map[string]any{"items": items})
			node := startBenchNode(b)
			c := sfnClientAt(node.SFNAddr())
			ctx := context.Background()
			sm, err := c.CreateStateMachine(ctx, &sfnsdk.CreateStateMachineInput{Name: aws.String("map"), RoleArn: aws.String(sfnRole),
				Definition: aws.String(`{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items","ResultSelector":{"n.$":"States.ArrayLength($)"},"End":true,
					"ItemProcessor":{"StartAt":"Double","States":{"Double":{"Type":"Pass","Parameters":{"v.$":"States.MathAdd($, $)"},"End":true}}}}}}`)})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start, err := c.StartExecution(ctx, &sfnsdk.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(string(input))})
				if err != nil {
					b.Fatal(err)
				}
				for {
					d, err := c.DescribeExecution(ctx, &sfnsdk.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
					if err != nil {
						b.Fatal(err)
					}
					if d.Status == types.ExecutionStatusSucceeded {
						break
					}
					if d.Status != types.ExecutionStatusRunning {
						b.Fatalf("status %s: %s", d.Status, aws.ToString(d.Cause))
					}
					time.Sleep(time.Millisecond)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/item")
		})
	}
}

// startBenchNode starts an in-process node for a benchmark, with a raised history limit.
func startBenchNode(b *testing.B) *server.Server {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, server.Config{
		GRPCAddr: "127.0.0.1:0", SFNAddr: "127.0.0.1:0", Store: testStore(b), LogLevel: "error", Clock: clock.Real{},
		SFN: server.SFNConfig{MaxHistoryEvents: 1_000_000},
	})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	return srv
}
