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

package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/test/testutil"
)

const troubleshootingDoc = "../docs/troubleshooting.md"

// troubleshootingClasses are the classes the page explains, in the order a
// reader with a problem needs them; Healthy reasons need no fix.
var troubleshootingClasses = []struct {
	class v1alpha1.ReasonClass
	title string
	what  string
}{
	{v1alpha1.ClassTerminal, "Needs a fix",
		"`Stalled` is True: retrying cannot fix these, so a GitOps apply that waits for health fails at once. Fix the cause; the operator watches the spec and the Secrets, and keeps retrying a connection it holds, so a fix on the Directus side is picked up too."},
	{v1alpha1.ClassTransient, "Heals by itself",
		"`Reconciling` is True: the operator retries with backoff. If one lasts, the message says why; fix the cause to make it shorter."},
	{v1alpha1.ClassProgressing, "On its way",
		"Steps on the way to `Ready` with nothing wrong. If one lasts for minutes, look at the other conditions and `status.lastError`."},
	{v1alpha1.ClassSuspended, "Suspended", "Not a problem: `spec.suspend` is true."},
}

// TestTheTroubleshootingPageIsUpToDate fails when docs/troubleshooting.md
// no longer lists every reason of v1alpha1.Reasons that is not healthy,
// with what it means and what to do: the same table docs/status.md is made
// from. UPDATE_DOCS=1 rewrites the section:
//
//	UPDATE_DOCS=1 go test ./api -run TestTheTroubleshootingPageIsUpToDate
func TestTheTroubleshootingPageIsUpToDate(t *testing.T) {
	testutil.KeepDocCurrent(t, troubleshootingDoc, map[string]string{"reasons": troubleshootingReasons(t)},
		"go test ./api -run TestTheTroubleshootingPageIsUpToDate")
}

func troubleshootingReasons(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	listed := 0
	for _, c := range troubleshootingClasses {
		fmt.Fprintf(&b, "### %s\n\n%s\n\n", c.title, c.what)
		for _, r := range v1alpha1.Reasons {
			if r.Class != c.class {
				continue
			}
			listed++
			fmt.Fprintf(&b, "#### `%s`\n\nOn %s.\n\n%s\n\n", r.Reason, strings.Join(r.Conditions, ", "), r.Description)
		}
	}
	healthy := 0
	for _, r := range v1alpha1.Reasons {
		if r.Class == v1alpha1.ClassHealthy {
			healthy++
		}
	}
	if listed+healthy != len(v1alpha1.Reasons) {
		t.Errorf("the page lists %d reasons and %d are healthy, of %d: a class is missing from troubleshootingClasses",
			listed, healthy, len(v1alpha1.Reasons))
	}
	return strings.TrimSuffix(b.String(), "\n")
}
