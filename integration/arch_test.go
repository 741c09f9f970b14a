package integration

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// integration is a black box: it imports no project package (DESIGN.md section 2).
func TestImportRules(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files: %v", err)
	}
	more, _ := filepath.Glob("*/*/*.go")
	for _, f := range append(files, more...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pf.Imports {
			if strings.HasPrefix(strings.Trim(imp.Path.Value, `"`), "mqstack/") {
				t.Errorf("%s imports %s: integration must test the binaries as a black box", f, imp.Path.Value)
			}
		}
	}
}
