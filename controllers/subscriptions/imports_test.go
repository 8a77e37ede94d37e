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

package subscriptions

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// The data plane runs in the sidecar with no controller around it: it
// imports neither the manager nor anything that deals in reconcile
// requests (see doc.go).
func TestTheDataPlaneImportsNoControllerMachinery(t *testing.T) {
	t.Parallel()
	g := NewWithT(t)
	files, err := filepath.Glob("*.go")
	g.Expect(err).NotTo(HaveOccurred())
	forbidden := []string{
		"sigs.k8s.io/controller-runtime/pkg/manager", "sigs.k8s.io/controller-runtime/pkg/reconcile",
		"sigs.k8s.io/controller-runtime/pkg/source", "sigs.k8s.io/controller-runtime/pkg/handler",
		"sigs.k8s.io/controller-runtime/pkg/controller", "k8s.io/client-go/util/workqueue",
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		g.Expect(err).NotTo(HaveOccurred())
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				g.Expect(path == bad || strings.HasPrefix(path, bad+"/")).To(BeFalse(), "%s imports %s", f, path)
			}
		}
		checked++
	}
	g.Expect(checked).To(BeNumerically(">", 10))
}
