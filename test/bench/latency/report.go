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

package main

import (
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"
)

// pct is the p-quantile of sorted (nearest rank).
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(sorted))*p-1e-9)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ms renders a duration for the table: 0.1 ms steps below 10 ms, whole
// ms below 10 s, then seconds.
func ms(d time.Duration) string {
	a := d
	if a < 0 {
		a = -a
	}
	switch {
	case a < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case a < 10*time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func byteSize(b float64) string {
	switch {
	case b < 1<<10:
		return fmt.Sprintf("%.0f B", b)
	case b < 1<<20:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	case b < 1<<30:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", b/(1<<30))
}

const na = "n/a"
const notRun = "—"

// perThousand is CPU time per 1,000 events.
func perThousand(d time.Duration, events int) time.Duration {
	if events == 0 {
		return 0
	}
	return d * 1000 / time.Duration(events)
}

// netAPI is the API server's CPU in the phase minus what it uses at rest
// over as long a time, floored at 0.
func (r *results) netAPI(pr *phaseResult) (time.Duration, bool) {
	return r.netOfIdle(pr.usage, pr.dur)
}

// netOfIdle is the API server's CPU in u, over dur, minus what it uses at
// rest over as long a time, floored at 0.
func (r *results) netOfIdle(u usage, dur time.Duration) (time.Duration, bool) {
	if !r.idleOK || !u.cpuOK || r.idle <= 0 {
		return 0, false
	}
	net := u.apiCPU - time.Duration(float64(r.idleAPI)*float64(dur)/float64(r.idle))
	return max(net, 0), true
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func (r *results) render() string {
	var b strings.Builder
	r.renderHeader(&b)
	titles := r.phaseTitles()
	for _, ph := range phases {
		r.renderPhase(&b, ph, titles[ph.id])
	}
	if sc := r.get(subjectSidecar, "a"); sc != nil || slices.Contains(r.cfg.subjects, subjectSidecar) {
		r.renderSidecar(&b, sc)
	}

	// The details behind the table.
	b.WriteString("\n")
	b.WriteString(strings.Join(r.notes(), "\n") + "\n")
	return b.String()
}

// renderHeader writes the title, what was run and how, and the table's
// heading.
func (r *results) renderHeader(b *strings.Builder) {
	c := r.cfg
	fmt.Fprintf(b, "### directus-operator latency and API cost benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(b, "Commit %s, %d CPUs, %s. Operator flags from BENCH_OPERATOR_ARGS: `%s`. ",
		r.commit, runtime.NumCPU(), r.directus, strings.Join(c.operatorArgs, " "))
	if c.proxy {
		b.WriteString("The operator and the naive mirror reach the API server through the harness's counting proxy.\n\n")
	} else {
		b.WriteString("BENCH_PROXY=off: the operator and the naive mirror reach the API server directly; bytes are n/a.\n\n")
	}
	b.WriteString("Latency is when the mirror first held an item minus when the raw subscriber (subscribed first) received it.\n\n")
	b.WriteString("| phase | measure | operator | naive mirror | target (issue #11) | operator vs target |\n|---|---|---|---|---|---|\n")
}

// row writes one row of the table.
func row(b *strings.Builder, phase, measure, op, naive, target, v string) {
	fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", phase, measure, op, naive, target, v)
}

// phaseTitles are the first cells of the phases' rows, by phase id.
func (r *results) phaseTitles() map[string]string {
	c := r.cfg
	rateTitle := func(id, what string) string {
		return fmt.Sprintf("**%s.** %d creates/s for %s, %s", id, c.rate, c.rateFor, what)
	}
	burstHow := "one POST"
	if c.burstBatch < c.burst {
		burstHow = fmt.Sprintf("POSTs of %d", c.burstBatch)
	}
	return map[string]string{
		"a": rateTitle("a", "empty mirror"),
		"b": fmt.Sprintf("**b.** burst of %d items (%s)", c.burst, burstHow),
		"c": rateTitle("c", fmt.Sprintf("mirror of %d items", c.burst)),
	}
}

// renderPhase writes the rows of one phase: the operator against the
// naive mirror, and the operator against issue #11's targets.
func (r *results) renderPhase(b *strings.Builder, ph phaseSpec, title string) {
	op, nv := r.get(subjectOperator, ph.id), r.get(subjectNaive, ph.id)
	latTarget, latVerdict := latencyTarget(ph, op)
	row(b, title, "mirror after raw subscriber, p50 / p90 / p99", cell(op, latencyCell), cell(nv, latencyCell), latTarget, latVerdict)
	if ph.burst {
		v := ""
		if op != nil {
			v = verdict(op.complete <= time.Second)
		}
		row(b, "", "complete after the raw subscriber had all", cell(op, completeCell), cell(nv, completeCell), "≤ 1 s", v)
	}
	wTarget, wVerdict := "", ""
	if ph.burst {
		wTarget = "≤ 40 writes"
		if op != nil {
			wVerdict = verdict(op.writes <= 40)
		}
	}
	row(b, "", "ConfigMap writes (events per write)", cell(op, writesCell), cell(nv, writesCell), wTarget, wVerdict)
	row(b, "", "bytes of ConfigMap writes sent (per write)", cell(op, bytesCell), cell(nv, bytesCell), "", "")
	cTarget, cVerdict := r.cpuTarget(ph, op, nv)
	row(b, "", "API-server CPU per 1,000 events, total (net of idle)", cell(op, r.cpuCell), cell(nv, r.cpuCell), cTarget, cVerdict)
}

// renderSidecar writes the rows of the sidecar's phase a (sc nil when it
// did not run).
func (r *results) renderSidecar(b *strings.Builder, sc *phaseResult) {
	c := r.cfg
	v := ""
	if sc != nil {
		v = verdict(pct(sc.diffs, 0.99) <= 20*time.Millisecond)
	}
	title := fmt.Sprintf("**a′.** sidecar `--target-dir`, %d creates/s for %s (operator column)", c.rate, c.rateFor)
	row(b, title, "file after raw subscriber, p50 / p90 / p99", cell(sc, latencyCell), notRun, "p99 ≤ 20 ms", v)
	row(b, "", "directory writes, index.json (events per write)", cell(sc, writesCell), notRun, "", "")
}

// latencyTarget is issue #11's latency target for phase ph, and whether
// the operator (op, nil when it did not run) met it.
func latencyTarget(ph phaseSpec, op *phaseResult) (target, v string) {
	switch ph.id {
	case "a":
		target = "p50 ≤ 5 ms, p99 ≤ 25 ms"
		if op != nil {
			v = verdict(pct(op.diffs, 0.5) <= 5*time.Millisecond && pct(op.diffs, 0.99) <= 25*time.Millisecond)
		}
	case "c":
		target = "p50 ≤ 10 ms"
		if op != nil {
			v = verdict(pct(op.diffs, 0.5) <= 10*time.Millisecond)
		}
	}
	return target, v
}

// cpuTarget is issue #11's target for the API server's CPU in phase ph,
// and the operator's against the naive mirror's.
func (r *results) cpuTarget(ph phaseSpec, op, nv *phaseResult) (target, v string) {
	ratio, ratioOK := r.cpuRatio(op, nv)
	if ph.burst {
		target = "≤ 1/10 of the naive mirror's"
		if ratioOK {
			v = verdict(ratio <= 0.1) + fmt.Sprintf(" (%.2f×)", ratio)
		}
	} else {
		target = "report operator / naive"
		if ratioOK {
			v = fmt.Sprintf("%.2f×", ratio)
		}
	}
	return target, v
}

// cell is f of pr, or notRun when pr is nil.
func cell(pr *phaseResult, f func(*phaseResult) string) string {
	if pr == nil {
		return notRun
	}
	return f(pr)
}

func latencyCell(pr *phaseResult) string {
	return fmt.Sprintf("%s / %s / %s", ms(pct(pr.diffs, 0.5)), ms(pct(pr.diffs, 0.9)), ms(pct(pr.diffs, 0.99)))
}

func completeCell(pr *phaseResult) string { return ms(pr.complete) }

func writesCell(pr *phaseResult) string {
	if pr.writes == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%.2f)", pr.writes, float64(pr.items)/float64(pr.writes))
}

func bytesCell(pr *phaseResult) string {
	if !pr.statsOK {
		return na
	}
	per := na
	if pr.stats.requests > 0 {
		per = byteSize(float64(pr.stats.bytes) / float64(pr.stats.requests))
	}
	return fmt.Sprintf("%s (%s)", byteSize(float64(pr.stats.bytes)), per)
}

func (r *results) cpuCell(pr *phaseResult) string {
	if !pr.cpuOK {
		return na
	}
	s := ms(perThousand(pr.apiCPU, pr.items))
	if net, ok := r.netAPI(pr); ok {
		s += fmt.Sprintf(" (%s)", ms(perThousand(net, pr.items)))
	}
	return s
}

// cpuRatio is the operator's net API-server CPU per event over the naive
// mirror's.
func (r *results) cpuRatio(op, nv *phaseResult) (float64, bool) {
	if op == nil || nv == nil {
		return 0, false
	}
	o, ok1 := r.netAPI(op)
	n, ok2 := r.netAPI(nv)
	if !ok1 || !ok2 || n <= 0 {
		return 0, false
	}
	return float64(perThousand(o, op.items)) / float64(perThousand(n, nv.items)), true
}

// notes are the details behind the table, one Markdown list item each.
func (r *results) notes() []string {
	c := r.cfg
	var notes []string
	if r.idleOK {
		notes = append(notes, fmt.Sprintf("- API server at rest: %s of CPU in %s (etcd %s), subtracted pro rata for \"net of idle\". "+
			"CPU comes from /proc/<pid>/stat (10 ms steps).",
			ms(r.idleAPI), ms(r.idle), ms(r.idleEtcd)))
	} else {
		notes = append(notes, "- API-server CPU: n/a (its process was not found).")
	}
	var loaded []string
	for _, subj := range c.subjects {
		for _, ph := range subjectPhases(subj) {
			pr := r.get(subj, ph.id)
			if pr == nil {
				continue
			}
			notes = append(notes, fmt.Sprintf("- %s, phase %s: %s.", subj, ph.id, strings.Join(phaseDetails(pr), "; ")))
			if pr.busyOK && pr.others > 0.10 {
				loaded = append(loaded, fmt.Sprintf("%s %s (%.0f%%)", subj, ph.id, 100*pr.others))
			}
		}
	}
	if len(loaded) > 0 {
		notes = append(notes, fmt.Sprintf("- **Other processes on the machine used more than 10%% of its CPU during %s: "+
			"those phases' times are not representative.**",
			strings.Join(loaded, ", ")))
	}
	if c.rate != 20 || c.burst != 2000 || c.rateFor != 10*time.Second {
		notes = append(notes, "- The targets are issue #11's, for the default workload (20 creates/s for 10 s, a 2,000-item burst).")
	}
	return append(notes, r.note...)
}

// phaseDetails are the figures of one subject's phase beyond the table's.
func phaseDetails(pr *phaseResult) []string {
	parts := []string{fmt.Sprintf("%d items created in %s", pr.items, ms(pr.sent))}
	if pr.retries > 0 {
		parts = append(parts, fmt.Sprintf("%d creates retried after Directus shed load", pr.retries))
	}
	parts = append(parts, fmt.Sprintf("mirror complete %s after the first create", ms(pr.dur)))
	if len(pr.diffs) > 0 {
		parts = append(parts, fmt.Sprintf("max after raw %s", ms(pr.diffs[len(pr.diffs)-1])))
	}
	if pr.statsOK {
		parts = append(parts, fmt.Sprintf("write requests through the proxy %d (%s; %s)", pr.stats.requests, counts(pr.stats.byVerb), counts(pr.stats.byCode)))
	}
	if pr.opWritesOK {
		parts = append(parts, fmt.Sprintf("operator's directus_operator_target_writes_total{configmap,success} +%.0f", pr.opWrites))
		if pr.reconnects > 0 {
			parts = append(parts, fmt.Sprintf("**the operator reconnected to Directus %.0f times** (directus_operator_reconnects_total)", pr.reconnects))
		}
	}
	if pr.cpuOK {
		parts = append(parts, fmt.Sprintf("API server %s and etcd %s of CPU in the phase", ms(pr.apiCPU), ms(pr.etcdCPU)))
	}
	if pr.busyOK {
		parts = append(parts, fmt.Sprintf("machine %.0f%% busy, %.0f%% by other processes", 100*pr.busy, 100*pr.others))
	}
	return parts
}

func counts[K comparable](m map[K]int64) string {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b K) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	if len(keys) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%v %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
