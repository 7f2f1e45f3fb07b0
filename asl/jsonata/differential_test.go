package jsonata

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/duro-dev/duro/asl/jsonv"
)

// The differential test runs every expression of testdata/differential.txt through this package
// and through the reference implementation, jsonata-js 2.0.6 (npm "jsonata@2.0.6", run with the
// machine's Node.js), and requires the same JSON result, or the same error code and position.
//
// The corpus is testdata/differential.txt, written by hand, and testdata/generated.txt, random
// combinations written by testdata/gen_corpus.py. Each holds one expression per line; "#" starts a
// comment line,
// "@input NAME" selects an input document from testdata/inputs.json ("@input none": no input), and
// "@bind JSON" sets the variable bindings ("@bind none" clears them). Nondeterministic functions
// ($now, $millis, $random, $shuffle, $uuid) are left out here and covered by table tests.

const referenceVersion = "2.0.6"

// knownGaps lists the differential cases where this package knowingly differs from jsonata-js
// 2.0.6, with the reason. The test logs them instead of failing, reports how many there are, and
// fails if one of them starts to pass (so the list cannot go stale).
var knownGaps = map[string]string{
	`($f := $substring(?, 1, 2); $f(["a","b"]))`: partialBuiltin,
	`($f := $join(?, "-"); $f("x"))`:             partialBuiltin,
	`($f := $join(?, "-"); $f([1,2]))`:           partialBuiltin,
	`($f := $map(?, $string); $f(["a","b"]))`:    partialBuiltin,
	`$power(2.007874768231005, 29)`:              "$power follows fdlibm's pow as V8 does, but V8 rounds the last bit differently for about 4% of arguments (here Duro's result is the correctly rounded one)",
	`$split("😀a😀", "")`:                          "JavaScript splits into UTF-16 code units and keeps lone surrogates; Go strings are UTF-8 and cannot hold them (Duro gives U+FFFD)",
}

const partialBuiltin = "a partially applied built-in keeps its signature checks in Duro; jsonata-js drops them and then coerces or fails with a TypeError"

// stepFunctionsRules lists the cases where Duro follows Step Functions rather than jsonata-js
// 2.0.6, with the error code Duro must give.
var stepFunctionsRules = map[string]string{
	`$eval("1 + 1")`: "D3150", // Step Functions does not offer $eval
}

type diffCase struct {
	Expr     string          `json:"expr"`
	Input    json.RawMessage `json:"input,omitempty"`
	Bindings json.RawMessage `json:"bindings,omitempty"`
	file     string
	line     int
}

type diffResult struct {
	Result    *string `json:"result"`
	Undefined bool    `json:"undefined"`
	Code      string  `json:"code"`
	Message   string  `json:"message"`
	Position  *int    `json:"position"`
}

func loadDiffCases(t *testing.T) []diffCase {
	t.Helper()
	var cases []diffCase
	for _, name := range []string{"differential.txt", "generated.txt"} {
		cases = append(cases, loadDiffFile(t, name)...)
	}
	return cases
}

func loadDiffFile(t *testing.T, name string) []diffCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/inputs.json")
	if err != nil {
		t.Fatal(err)
	}
	var inputs map[string]json.RawMessage
	if err := json.Unmarshal(raw, &inputs); err != nil {
		t.Fatalf("inputs.json: %v", err)
	}
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []diffCase
	var input, bindings json.RawMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case strings.HasPrefix(trimmed, "@input "):
			in := strings.TrimSpace(strings.TrimPrefix(trimmed, "@input "))
			if in == "none" {
				input = nil
				continue
			}
			doc, ok := inputs[in]
			if !ok {
				t.Fatalf("%s:%d: unknown input %q", name, line, in)
			}
			input = doc
			continue
		case strings.HasPrefix(trimmed, "@bind "):
			b := strings.TrimSpace(strings.TrimPrefix(trimmed, "@bind "))
			if b == "none" {
				bindings = nil
				continue
			}
			if !json.Valid([]byte(b)) {
				t.Fatalf("%s:%d: bad bindings", name, line)
			}
			bindings = json.RawMessage(b)
			continue
		}
		cases = append(cases, diffCase{Expr: text, Input: input, Bindings: bindings, file: name, line: line})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// referenceDir installs jsonata@2.0.6 into the user's cache if it is not there yet.
func referenceDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("the differential test needs Node.js (node) on PATH to run the reference jsonata-js 2.0.6; install Node.js")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatalf("no home directory for the reference cache: %v", err)
	}
	dir := filepath.Join(home, ".cache", "duro", "jsonata-"+referenceVersion)
	pkg := filepath.Join(dir, "node_modules", "jsonata", "package.json")
	if b, err := os.ReadFile(pkg); err == nil {
		var p struct{ Version string }
		if json.Unmarshal(b, &p) == nil && p.Version == referenceVersion {
			return dir
		}
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("the differential test needs npm on PATH to install jsonata@" + referenceVersion)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--prefix", dir, "jsonata@"+referenceVersion)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm install jsonata@%s failed: %v\n%s", referenceVersion, err, out)
	}
	return dir
}

func runReference(t *testing.T, cases []diffCase) []diffResult {
	t.Helper()
	dir := referenceDir(t)
	payload, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("testdata/reference.js")
	if err != nil {
		t.Fatal(err)
	}
	// a case that loops forever in jsonata-js must fail the test, not hang it
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, dir)
	cmd.Stdin = bytes.NewReader(payload)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running the reference implementation (node %s): %v\n%s", script, err, stderr.String())
	}
	var res []diffResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("reference output: %v", err)
	}
	if len(res) != len(cases) {
		t.Fatalf("reference returned %d results for %d cases", len(res), len(cases))
	}
	return res
}

// evalCase runs one case here and renders it the way the reference script does.
func evalCase(c diffCase) diffResult {
	var input any = Undefined
	if len(c.Input) > 0 {
		v, err := jsonv.Parse(c.Input)
		if err != nil {
			return diffResult{Code: "BAD-INPUT", Message: err.Error()}
		}
		input = v
	}
	var vars map[string]any
	if len(c.Bindings) > 0 {
		v, err := jsonv.Parse(c.Bindings)
		if err != nil {
			return diffResult{Code: "BAD-BINDINGS", Message: err.Error()}
		}
		o := v.(*jsonv.Object)
		vars = map[string]any{}
		for _, k := range o.Keys() {
			vars[k], _ = o.Get(k)
		}
	}
	e, err := Compile(c.Expr)
	if err == nil {
		var res any
		res, err = e.Eval(input, vars, &Options{Now: time.UnixMilli(1700000000000).UTC()})
		if err == nil {
			if res == Undefined {
				return diffResult{Undefined: true}
			}
			s := jsonv.String(res)
			return diffResult{Result: &s}
		}
	}
	var je *Error
	if errors.As(err, &je) {
		pos := je.Position
		return diffResult{Code: je.Code, Message: je.Message, Position: &pos}
	}
	return diffResult{Code: "GO-ERROR", Message: err.Error()}
}

func (r diffResult) String() string {
	switch {
	case r.Result != nil:
		return *r.Result
	case r.Undefined:
		return "undefined"
	}
	return "error " + r.Code + " (" + r.Message + ")"
}

// sameResult compares Duro's result a with the reference's b. Where jsonata-js fails with a bare
// JavaScript exception (no JSONata code), Duro must fail too, with U1010.
func sameResult(a, b diffResult) bool {
	if strings.HasPrefix(b.Code, "JS:") {
		return a.Code == "U1010"
	}
	if a.Code != "" || b.Code != "" {
		return a.Code == b.Code
	}
	if a.Undefined || b.Undefined {
		return a.Undefined == b.Undefined
	}
	return *a.Result == *b.Result
}

func TestDifferential(t *testing.T) {
	cases := loadDiffCases(t)
	want := runReference(t, cases)
	pass, gaps := 0, 0
	errCases, samePos := 0, 0
	for i, c := range cases {
		got := evalCase(c)
		if code, ok := stepFunctionsRules[c.Expr]; ok {
			if got.Code != code {
				t.Errorf("%s:%d: %s: Step Functions rule wants error %s, got %s", c.file, c.line, c.Expr, code, got)
			}
			pass++
			continue
		}
		ok := sameResult(got, want[i])
		if ok && got.Code != "" && want[i].Position != nil {
			// the ASL engine shows error positions, so they must match too
			errCases++
			if got.Position != nil && *got.Position == *want[i].Position {
				samePos++
			} else {
				gp := -1
				if got.Position != nil {
					gp = *got.Position
				}
				t.Errorf("%s:%d: %s: error %s at position %d, reference at %d", c.file, c.line, c.Expr, got.Code, gp, *want[i].Position)
			}
		}
		reason, isGap := knownGaps[c.Expr]
		switch {
		case ok && isGap:
			t.Errorf("%s:%d: %s now matches the reference; remove it from knownGaps", c.file, c.line, c.Expr)
		case ok:
			pass++
		case isGap:
			gaps++
			t.Logf("known gap, %s:%d: %s\n  reference: %s\n  duro:      %s\n  reason:    %s", c.file, c.line, c.Expr, want[i], got, reason)
		default:
			t.Errorf("%s:%d: %s\n  reference: %s\n  duro:      %s", c.file, c.line, c.Expr, want[i], got)
		}
	}
	t.Logf("differential: %d cases, %d match jsonata-js %s, %d known gaps", len(cases), pass, referenceVersion, gaps)
	t.Logf("differential: %d of %d errors with a reference position report the same position", samePos, errCases)
}
