package tasktoken

import (
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	in := Token{Kind: Activity, Namespace: "default", WorkflowID: "wf", RunID: "run", EventID: 5, Attempt: 3, ActivityID: "5"}
	out, err := Decode(Encode(in))
	if err != nil || out != in {
		t.Fatalf("Decode(Encode(%+v)) = %+v, %v", in, out, err)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	good := Encode(Token{Kind: Workflow, Namespace: "n", WorkflowID: "w", RunID: "r", EventID: 3, Attempt: 1})
	cases := [][]byte{nil, {}, {1}, {9, 1}, []byte("hello world"), good[:len(good)-1], append(append([]byte{}, good...), 0)}
	for _, c := range cases {
		if _, err := Decode(c); !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%q) err = %v, want ErrMalformed", c, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(Encode(Token{Kind: Query, Namespace: "n", WorkflowID: "w", RunID: "r", QueryID: "q"}))
	f.Add([]byte{1, 2, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(Encode(tok))
		if err != nil || again != tok {
			t.Fatalf("re-encode mismatch: %+v vs %+v (%v)", tok, again, err)
		}
	})
}
