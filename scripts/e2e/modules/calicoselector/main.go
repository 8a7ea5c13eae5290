// calico-selector-oracle: answers, for each JSON line on stdin, what Calico's own selector package
// (github.com/projectcalico/calico/libcalico-go/lib/selector) makes of a selector: whether it
// parses, its normalised form (Selector.String()) and its verdict on each label set.
//
// Input line:  {"id": 7, "selector": "app == 'web'", "labels": [{"app": "web"}, {}]}
// Output line: {"id": 7, "ok": true, "canonical": "app == \"web\"", "verdicts": [true, false]}
//
//	or {"id": 7, "ok": false, "error": "..."} when Calico refuses the selector.
//
// scripts/e2e/selector-oracle.ts feeds it generated cases and compares the answers with the
// engine's parser (engine/calico/selector-ast.ts).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/projectcalico/calico/libcalico-go/lib/selector"
)

type request struct {
	ID       int                 `json:"id"`
	Selector string              `json:"selector"`
	Labels   []map[string]string `json:"labels"`
}

type answer struct {
	ID        int    `json:"id"`
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	Canonical string `json:"canonical,omitempty"`
	Verdicts  []bool `json:"verdicts,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	encoder := json.NewEncoder(out)
	line := 0
	for in.Scan() {
		line++
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintf(os.Stderr, "calico-selector-oracle: line %d: %v\n", line, err)
			os.Exit(2)
		}
		ans := answer{ID: req.ID}
		parsed, err := selector.Parse(req.Selector)
		if err != nil {
			ans.Error = err.Error()
		} else {
			ans.OK = true
			ans.Canonical = parsed.String()
			ans.Verdicts = make([]bool, len(req.Labels))
			for i, labels := range req.Labels {
				ans.Verdicts[i] = parsed.Evaluate(labels)
			}
		}
		if err := encoder.Encode(ans); err != nil {
			fmt.Fprintf(os.Stderr, "calico-selector-oracle: %v\n", err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "calico-selector-oracle: %v\n", err)
		os.Exit(2)
	}
}
