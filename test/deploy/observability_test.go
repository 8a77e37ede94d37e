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
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// operatorMetrics are the operator's own metrics and their labels, as the
// operator exports them; docs/metrics.md and the dashboard must agree.
var operatorMetrics = map[string][]string{
	"directus_operator_connections":            {"state"},
	"directus_operator_events_received_total":  {"collection", "event"},
	"directus_operator_reconnects_total":       {"namespace", "name"},
	"directus_operator_target_writes_total":    {"target", "result"},
	"directus_operator_write_errors_total":     {"target", "reason"},
	"directus_operator_event_to_write_seconds": {"target"},
	"directus_operator_resyncs_total":          {"reason"},
	"directus_operator_exit_checks_total":      {},
	// Per subscription, in the style of External Secrets.
	"directus_operator_subscription_condition":                      {"namespace", "name", "type", "status"},
	"directus_operator_subscription_last_message_timestamp_seconds": {"namespace", "name"},
	"directus_operator_subscription_last_sync_timestamp_seconds":    {"namespace", "name"},
	"directus_operator_subscription_items":                          {"namespace", "name"},
	"directus_operator_subscription_bytes":                          {"namespace", "name"},
	// Per connection object.
	"directus_operator_connection_condition":     {"kind", "namespace", "name", "type", "status"},
	"directus_operator_connection_sockets":       {"kind", "namespace", "name"},
	"directus_operator_connection_subscriptions": {"kind", "namespace", "name"},
}

var metricName = regexp.MustCompile(`directus_operator_[a-z_]+`)

func TestMetricsDocListsEveryMetricWithItsLabels(t *testing.T) {
	g := NewWithT(t)
	doc := string(readRepoFile(t, "docs/metrics.md"))
	for name, labels := range operatorMetrics {
		quoted := make([]string, len(labels))
		for i, l := range labels {
			quoted[i] = "`" + l + "`"
		}
		row := fmt.Sprintf("| `%s` |", name)
		g.Expect(doc).To(ContainSubstring(row), "docs/metrics.md has a row for %s", name)
		line := doc[strings.Index(doc, row):]
		line = line[:strings.Index(line, "\n")]
		g.Expect(line).To(ContainSubstring(strings.Join(quoted, ", ")), "docs/metrics.md lists the labels of %s", name)
	}
	for _, name := range metricName.FindAllString(doc, -1) {
		g.Expect(operatorMetrics).To(HaveKey(trimSeriesSuffix(name)), "docs/metrics.md mentions an unknown metric")
	}
}

func TestDashboardQueriesKnownMetrics(t *testing.T) {
	g := NewWithT(t)
	var dashboard struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	g.Expect(json.Unmarshal(readRepoFile(t, "charts/directus-operator/dashboards/directus-operator.json"), &dashboard)).To(Succeed())
	g.Expect(dashboard.UID).To(Equal("directus-operator"))

	used := map[string]bool{}
	titles := map[string]bool{}
	byClause := regexp.MustCompile(`by \(([^)]*)\)`)
	for _, p := range dashboard.Panels {
		titles[p.Title] = true
		for _, tgt := range p.Targets {
			for _, name := range metricName.FindAllString(tgt.Expr, -1) {
				base := trimSeriesSuffix(name)
				g.Expect(operatorMetrics).To(HaveKey(base), "panel %q queries an unknown metric", p.Title)
				used[base] = true
				for _, m := range byClause.FindAllStringSubmatch(tgt.Expr, -1) {
					for l := range strings.SplitSeq(m[1], ",") {
						l = strings.TrimSpace(l)
						// le is the histogram bucket label; Prometheus renames
						// a scraped namespace label to exported_namespace.
						if l == "le" || l == "exported_namespace" {
							continue
						}
						g.Expect(operatorMetrics[base]).To(ContainElement(l), "panel %q groups %s by an unknown label", p.Title, base)
					}
				}
			}
		}
	}
	for name := range operatorMetrics {
		g.Expect(used).To(HaveKey(name), "the dashboard shows %s", name)
	}
	g.Expect(titles).To(HaveKey("Connections by state"))
	g.Expect(titles).To(HaveKey("Events received by collection"))
	g.Expect(titles).To(HaveKey("Event-to-write latency p50 / p99"))
	g.Expect(titles).To(HaveKey("Writes by result"))
}

// trimSeriesSuffix maps a histogram series name to its metric name.
func trimSeriesSuffix(name string) string {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		if strings.HasSuffix(name, "_seconds"+s) {
			return strings.TrimSuffix(name, s)
		}
	}
	return name
}
