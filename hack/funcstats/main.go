/*
Copyright 2026 The directus-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command funcstats prints the ten longest functions in the non-test Go files
// under controllers/, realtime/ and cmd/ of a checkout, and the number of
// fields of the Hub and Connection structs wherever under controllers/ they
// are declared. It reads files only; run it as hack/funcstats.sh [DIR].
package main

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// roots are the folders whose functions are measured.
var roots = []string{"controllers", "realtime", "cmd"}

// structs are the struct types whose fields are counted.
var structs = []string{"Hub", "Connection"}

// longest is how many functions are listed.
const longest = 10

// function is one function declaration and its length in lines, from the
// func keyword to the closing brace.
type function struct {
	where string
	lines int
}

// structType is one struct type declaration found under controllers/.
type structType struct {
	name, pkg, where string
	typ              *ast.StructType
}

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := run(dir); err != nil {
		fmt.Fprintln(os.Stderr, "funcstats:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	fset := token.NewFileSet()
	var funcs []function
	// types holds every struct type under controllers/, by package folder
	// and name, so that a counted struct's own-package struct fields can be
	// looked up.
	types := map[string]structType{}
	for _, root := range roots {
		err := filepath.WalkDir(filepath.Join(dir, root), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			for _, decl := range f.Decls {
				switch decl := decl.(type) {
				case *ast.FuncDecl:
					if decl.Body == nil {
						continue
					}
					lines := fset.Position(decl.End()).Line - fset.Position(decl.Pos()).Line + 1
					funcs = append(funcs, function{where: rel + ":" + funcName(decl), lines: lines})
				case *ast.GenDecl:
					if root != "controllers" {
						continue
					}
					for _, spec := range decl.Specs {
						ts, ok := spec.(*ast.TypeSpec)
						if !ok {
							continue
						}
						if st, ok := ts.Type.(*ast.StructType); ok {
							pkg := filepath.Dir(rel)
							where := fmt.Sprintf("%s:%d", rel, fset.Position(ts.Pos()).Line)
							types[pkg+"."+ts.Name.Name] = structType{name: ts.Name.Name, pkg: pkg, where: where, typ: st}
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	slices.SortFunc(funcs, func(a, b function) int {
		return cmp.Or(cmp.Compare(b.lines, a.lines), cmp.Compare(a.where, b.where))
	})
	fmt.Printf("The %d longest functions (lines, file:func) in the non-test Go files under %s:\n", longest, strings.Join(roots, "/, ")+"/")
	for _, f := range funcs[:min(longest, len(funcs))] {
		fmt.Printf("%5d  %s\n", f.lines, f.where)
	}
	fmt.Println()
	fmt.Println("Fields of the Hub and the Connection:")
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range types {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range structs {
		found := false
		for _, k := range keys {
			st := types[k]
			if st.name != name {
				continue
			}
			found = true
			fmt.Println(describe(st, types))
		}
		if !found {
			fmt.Printf("  %s: not found under controllers/\n", name)
		}
	}
	return nil
}

// describe says how many fields st has and, for each field whose type is a
// struct of st's own package (a lockedState, an options struct), how many
// that one holds.
func describe(st structType, types map[string]structType) string {
	var inner []string
	for _, field := range st.typ.Fields.List {
		id, ok := field.Type.(*ast.Ident)
		if !ok {
			continue
		}
		t, ok := types[st.pkg+"."+id.Name]
		if !ok {
			continue
		}
		name := id.Name
		if len(field.Names) > 0 {
			name = field.Names[0].Name
		}
		inner = append(inner, fmt.Sprintf("%s %s: %d", name, id.Name, countFields(t.typ)))
	}
	s := fmt.Sprintf("  %s.%s (%s): %d fields", filepath.Base(st.pkg), st.name, st.where, countFields(st.typ))
	if len(inner) > 0 {
		s += "; in its struct-valued fields: " + strings.Join(inner, ", ")
	}
	return s
}

// countFields counts the fields of st: each name of "a, b int" is one, an
// embedded field is one.
func countFields(st *ast.StructType) int {
	n := 0
	for _, field := range st.Fields.List {
		n += max(len(field.Names), 1)
	}
	return n
}

// funcName is "Recv.Name" for a method, "Name" for a function.
func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	t := d.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	switch t := t.(type) {
	case *ast.Ident:
		return t.Name + "." + d.Name.Name
	case *ast.IndexExpr:
		if id, ok := t.X.(*ast.Ident); ok {
			return id.Name + "." + d.Name.Name
		}
	case *ast.IndexListExpr:
		if id, ok := t.X.(*ast.Ident); ok {
			return id.Name + "." + d.Name.Name
		}
	}
	return d.Name.Name
}
