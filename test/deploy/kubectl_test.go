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

package deploy

import (
	"fmt"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// TestKubectlExplainDocumentsTheSpec checks that the field comments reach
// users: kubectl explain shows a description for every spec field.
func TestKubectlExplainDocumentsTheSpec(t *testing.T) {
	g := NewWithT(t)
	// The API server publishes a new CRD's OpenAPI schema a moment after
	// the CRD is established.
	var out string
	g.Eventually(func() error {
		var stderr string
		var err error
		if out, stderr, err = run("", kubectlBin, "--kubeconfig", kubeconfig, "explain", "directussubscription.spec"); err != nil {
			return fmt.Errorf("%w: %s", err, stderr)
		}
		return nil
	}, 60*time.Second, 250*time.Millisecond).Should(Succeed())
	for _, field := range []string{"url", "websocketPath", "auth", "tls", "heartbeat", "reconnect", "collection",
		"event", "query", "target", "resyncInterval", "suspend"} {
		g.Expect(out).To(MatchRegexp(`(?m)^  `+field+`\s`), "explain lists %s", field)
	}
	g.Expect(out).To(ContainSubstring("Directus query object"))

	out, stderr, err := run("", kubectlBin, "--kubeconfig", kubeconfig, "explain", "dsub.spec.target.configMap.keyField")
	g.Expect(err).NotTo(HaveOccurred(), stderr)
	g.Expect(out).To(ContainSubstring("primary key"), "the short name works and nested fields are documented")
}

// TestKubectlGetShowsWhetherItWorks checks the printer columns: the answer
// to "is it working?" at a glance.
func TestKubectlGetShowsWhetherItWorks(t *testing.T) {
	g := NewWithT(t)
	out, stderr, err := run("", kubectlBin, "--kubeconfig", kubeconfig, "get", "dsub", "-A", "-o", "wide")
	g.Expect(err).NotTo(HaveOccurred(), stderr)
	header := strings.Fields(strings.SplitN(out+"\n", "\n", 2)[0])
	if len(header) == 0 { // no objects: kubectl prints only "No resources found"
		out, stderr, err = run("", kubectlBin, "--kubeconfig", kubeconfig, "get", "crd", "directussubscriptions.realtime.directus-operator.io",
			"-o", `jsonpath={range .spec.versions[0].additionalPrinterColumns[*]}{.name}{","}{end}`)
		g.Expect(err).NotTo(HaveOccurred(), stderr)
		header = strings.Split(strings.TrimSuffix(out, ","), ",")
	}
	for _, col := range []string{"COLLECTION", "EVENT", "TARGET", "READY", "REASON", "ITEMS", "CONNECTION", "AGE"} {
		g.Expect(strings.ToUpper(strings.Join(header, " "))).To(ContainSubstring(col))
	}
}
