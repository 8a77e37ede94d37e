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

package v1alpha1_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// reasonConstants reads the Reason* constants declared in conditions.go,
// name to value.
func reasonConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "conditions.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Reason") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					consts[name.Name], _ = strconv.Unquote(lit.Value)
				}
			}
		}
	}
	return consts
}

func TestEveryDeclaredReasonIsClassedOnce(t *testing.T) {
	g := NewWithT(t)
	declared := map[string]bool{}
	for _, v := range reasonConstants(t) {
		declared[v] = true
	}
	g.Expect(declared).NotTo(BeEmpty())
	classed := map[string]bool{}
	for _, r := range v1alpha1.Reasons {
		g.Expect(classed).NotTo(HaveKey(r.Reason), "%s is in Reasons twice", r.Reason)
		classed[r.Reason] = true
		g.Expect(r.Class).To(BeElementOf(v1alpha1.ClassHealthy, v1alpha1.ClassProgressing, v1alpha1.ClassTransient,
			v1alpha1.ClassTerminal, v1alpha1.ClassSuspended), r.Reason)
		g.Expect(r.Conditions).NotTo(BeEmpty(), r.Reason)
		g.Expect(r.Description).NotTo(BeEmpty(), r.Reason)
	}
	g.Expect(classed).To(Equal(declared), "Reasons must class every Reason constant of conditions.go, and only those")
}

func TestAnUnknownReasonIsTransient(t *testing.T) {
	g := NewWithT(t)
	g.Expect(v1alpha1.ClassOf("NamedByANewerVersion")).To(Equal(v1alpha1.ClassTransient))
	g.Expect(v1alpha1.ClassOf(v1alpha1.ReasonAuthFailed)).To(Equal(v1alpha1.ClassTerminal))
	g.Expect(v1alpha1.ClassOf(v1alpha1.ReasonServerUnreachable)).To(Equal(v1alpha1.ClassTransient))
}
