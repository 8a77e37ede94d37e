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

package controllers_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/test/envtestutil"
	"github.com/directus-operator/directus-operator/test/testutil"
)

// statusDoc holds generated sections between "<!-- BEGIN GENERATED: name -->"
// and "<!-- END GENERATED: name -->" lines.
const statusDoc = "docs/status.md"

// TestTheStatusDocIsUpToDate fails when docs/status.md no longer shows
// v1alpha1.Reasons, the outcomes the kstatus test proves, or the Argo CD
// health check it runs. UPDATE_DOCS=1 rewrites the sections:
//
//	UPDATE_DOCS=1 go test ./controllers -run TestTheStatusDocIsUpToDate
func TestTheStatusDocIsUpToDate(t *testing.T) {
	check, err := os.ReadFile(filepath.Join(envtestutil.RepoRoot(), argoHealthCheck))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	testutil.KeepDocCurrent(t, filepath.Join(envtestutil.RepoRoot(), statusDoc), map[string]string{
		"reasons":   reasonTable(),
		"argocd-cm": argoConfigMap(string(check)),
	}, "go test ./controllers -run TestTheStatusDocIsUpToDate")
}

// reasonTable lists every reason with the conditions and results of its
// class, in the order of v1alpha1.Reasons.
func reasonTable() string {
	var b bytes.Buffer
	b.WriteString("| Reason | Set on | Class | Ready | Reconciling | Stalled | kstatus | Argo CD | Meaning |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range slices.Concat(v1alpha1.Reasons, v1alpha1.ConnectionReasons) {
		o := outcomes[r.Class]
		setOn := strings.Join(r.Conditions, ", ")
		if i >= len(v1alpha1.Reasons) {
			setOn += " (connection objects only)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Reason, setOn, className(r.Class),
			cell(o.ready), cell(o.reconciling), cell(o.stalled), o.kstatus, o.argo, r.Description)
	}
	return b.String()
}

func className(c v1alpha1.ReasonClass) string {
	if c == v1alpha1.ClassTerminal || c == v1alpha1.ClassTransient {
		return "**" + strings.ToLower(string(c)) + "**"
	}
	return strings.ToLower(string(c))
}

func cell(s metav1.ConditionStatus) string {
	if s == "" {
		return "–"
	}
	return string(s)
}

// argoConfigMap is the argocd-cm entry that installs the health check.
func argoConfigMap(check string) string {
	var b bytes.Buffer
	b.WriteString("```yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n")
	b.WriteString("  labels:\n    app.kubernetes.io/part-of: argocd\ndata:\n")
	fmt.Fprintf(&b, "  resource.customizations.health.%s_DirectusSubscription: |\n", v1alpha1.GroupVersion.Group)
	for line := range strings.SplitSeq(strings.TrimRight(check, "\n"), "\n") {
		if line == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("    " + line + "\n")
	}
	b.WriteString("```\n")
	return b.String()
}
