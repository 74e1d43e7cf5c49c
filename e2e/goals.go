package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
)

// GoalRow is one row of BENCHMARKS.md's Goals table. The benchmark
// commands whose reports are fragments of it (e2e/browserbench) write
// their rows beside the fragment as NAME.goals.json, which e2e/bench adds
// to the table, so every goal is in one place.
type GoalRow struct {
	Goal   string `json:"goal"`
	Target string `json:"target"`
	Ours   string `json:"ssekit"`
	Peer   string `json:"peer"`
	Met    bool   `json:"met"`
	Missed string `json:"missed,omitempty"` // by how much, when not met
}

// WriteGoals writes rows to path.
func WriteGoals(path string, rows []GoalRow) error {
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadGoals reads the rows of every *.goals.json in dir, in name order.
func ReadGoals(dir string) ([]GoalRow, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.goals.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var rows []GoalRow
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var more []GoalRow
		if err := json.Unmarshal(b, &more); err != nil {
			return nil, &os.PathError{Op: "read goals", Path: n, Err: err}
		}
		rows = append(rows, more...)
	}
	return rows, nil
}
