// Package archtest checks a module's import rules (DESIGN.md section 2) from a
// Go test: every non-test and test file under the module root is parsed and
// its imports are matched against forbidden prefixes.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Rule forbids packages under Dir (relative to the module root, "" = all)
// from importing any path with one of the Forbidden prefixes. An exact
// match or a prefix followed by "/" counts.
type Rule struct {
	Dir       string
	Forbidden []string
	Why       string
}

// Check walks root and reports every import that breaks a rule.
func Check(t *testing.T, root string, rules []Rule) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		n++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, r := range rules {
				if r.Dir != "" && !strings.HasPrefix(filepath.ToSlash(rel), r.Dir+"/") {
					continue
				}
				for _, bad := range r.Forbidden {
					if p == bad || strings.HasPrefix(p, bad+"/") {
						t.Errorf("%s imports %q: %s", rel, p, r.Why)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no Go files under %s", root)
	}
}
