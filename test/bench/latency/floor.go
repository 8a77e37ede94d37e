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

// The floor (BENCH_SUBJECTS=floor, make bench-floor) measures what no
// mirror can avoid on this machine, with the same components as the
// benchmark:
//
//  1. Directus's delay to a second subscriber. Directus dispatches an event
//     to its subscriptions one after another and reads the row again for
//     each, so a mirror that subscribes after the raw subscriber cannot
//     hear of an item before a second raw subscriber would.
//  2. The API server's write-to-watch delay: one changed key written into a
//     ConfigMap (a whole Update, or a JSON merge patch of that key) until
//     the harness's watch delivers it, for a small ConfigMap and for one of
//     BENCH_BURST PerItem keys like phase c's.
//
// A mirror's latency after the raw subscriber is at least (1) + (2).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
)

// ---- 1. a second raw subscriber ----

// secondSubject is a second raw subscriber on its own socket (as the
// operator has its own), attached after the first's init: its "target" is
// its own receipt of each item.
type secondSubject struct {
	h    *harness
	mu   sync.Mutex
	runs map[string]*secondRun
}

type secondRun struct {
	rt   *realtime.Client
	stop func()
}

func (s *secondSubject) name() string            { return subjectSecond }
func (s *secondSubject) configMap(string) string { return "" }
func (s *secondSubject) failed() error           { return nil } // its tracker fails instead

func (s *secondSubject) attach(ctx context.Context, coll string) (*tracker, error) {
	rt, err := realtime.New(s.h.realtimeOptions("second subscriber"))
	if err != nil {
		return nil, err
	}
	if err := rt.Connect(ctx); err != nil {
		_ = rt.Close()
		return nil, fmt.Errorf("second subscriber: connect: %w", err)
	}
	tr, stop, err := subscribeRaw(ctx, rt, coll, 30*time.Second)
	if err != nil {
		_ = rt.Close()
		return nil, err
	}
	s.mu.Lock()
	s.runs[coll] = &secondRun{rt: rt, stop: stop}
	s.mu.Unlock()
	return tr, nil
}

func (s *secondSubject) detach(coll string) {
	r := takeRun(&s.mu, s.runs, coll)
	if r == nil {
		return
	}
	r.stop()
	_ = r.rt.Close()
}

// ---- 2. the API server's write-to-watch delay ----

// writeRun is one write-to-watch loop: BENCH_RATE writes/s for
// BENCH_RATE_FOR, each adding one key to a ConfigMap.
type writeRun struct {
	keys      int    // keys in the ConfigMap before the first write
	dataBytes int    // their keys' and values' bytes
	method    string // writeUpdate or writePatch
	diffs     []time.Duration
	writes    int
	dur       time.Duration // from the first write's start to the last write seen
	usage
}

// How a write loop writes.
const (
	writeUpdate = "Update"                          // the whole object, as the naive mirror does (controller-runtime client: protobuf)
	writePatch  = "JSON merge patch of the one key" // as the operator does
)

// floorSizes are the ConfigMap sizes the write loops use: a small one,
// like phase a's mirror, and one of BENCH_BURST keys, like phase c's.
func floorSizes(c config) []int { return []int{4, c.burst} }

// floorValue is a PerItem value shaped like a bench item's compact JSON.
func floorValue(id int) string {
	return fmt.Sprintf(`{"id":%d,"date_created":"2026-01-01T00:00:00.000Z","text":"bench floor c %d","user":"bench"}`, id, id)
}

// runWriteLoops runs a write loop for each size and method, one after the
// other, so that the API server's CPU in each is that loop's.
func runWriteLoops(ctx context.Context, h *harness, res *results) error {
	for _, keys := range floorSizes(h.cfg) {
		for _, method := range []string{writeUpdate, writePatch} {
			wr, err := writeLoop(ctx, h, keys, method)
			if err != nil {
				return fmt.Errorf("write loop, %d keys, %s: %w", keys, method, err)
			}
			res.mu.Lock()
			res.writes = append(res.writes, wr)
			res.mu.Unlock()
		}
	}
	return nil
}

// writeLoop creates a ConfigMap of keys PerItem keys, watches it as the
// benchmark watches a mirror, and then, at BENCH_RATE writes/s, adds one
// key per write. Each write starts from the object the previous one
// returned, so there is no Get: only the write and the watch are timed.
// The writes are sequential (an Update needs the previous resourceVersion);
// a write that takes longer than the interval delays the next.
func writeLoop(ctx context.Context, h *harness, keys int, method string) (*writeRun, error) {
	pctx, cancel := context.WithTimeoutCause(ctx, h.cfg.phaseTimeout, errDeadline)
	defer cancel()
	name := fmt.Sprintf("floor-%d-%s", keys, map[string]string{writeUpdate: "update", writePatch: "patch"}[method])
	wr := &writeRun{keys: keys, method: method}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Data: map[string]string{}}
	for id := 1; id <= keys; id++ {
		k, v := benchkit.DataKey(strconv.Itoa(id)), floorValue(id)
		cm.Data[k] = v
		wr.dataBytes += len(k) + len(v)
	}
	if err := h.k8s.Create(pctx, cm); err != nil {
		return nil, err
	}
	tr, stop, err := watchConfigMap(pctx, h.cs, namespace, name)
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := tr.waitFor(pctx, func() bool { return tr.writes > 0 }); err != nil {
		return nil, fmt.Errorf("the watch of %s delivered no ADDED: %w", name, err)
	}
	logf("floor: %d writes/s for %s into ConfigMap %s (%d keys, %s): %s", h.cfg.rate, h.cfg.rateFor, name, keys, byteSize(float64(wr.dataBytes)), method)

	n := int(float64(h.cfg.rate) * h.cfg.rateFor.Seconds())
	ids := make([]string, n)
	starts := make([]time.Time, n)
	before := h.sampleCPU()
	tick := time.NewTicker(time.Second / time.Duration(h.cfg.rate))
	defer tick.Stop()
	for i := range n {
		if i > 0 {
			select {
			case <-pctx.Done():
				return nil, phaseErr(pctx, "write", pctx.Err())
			case <-tick.C: // the workload's pace
			}
		}
		id := keys + 1 + i
		ids[i] = strconv.Itoa(id)
		k, v := benchkit.DataKey(ids[i]), floorValue(id)
		starts[i] = time.Now()
		switch method {
		case writeUpdate:
			cm.Data[k] = v
			err = h.k8s.Update(pctx, cm)
		case writePatch:
			patch, _ := json.Marshal(map[string]any{"data": map[string]string{k: v}})
			err = h.k8s.Patch(pctx, cm, client.RawPatch(types.MergePatchType, patch))
		}
		if err != nil {
			return nil, phaseErr(pctx, "write", err)
		}
	}
	if err := tr.waitAll(pctx, ids); err != nil {
		return nil, phaseErr(pctx, fmt.Sprintf("the watch saw %d of %d writes", n-tr.missing(ids), n), err)
	}
	seen := tr.times(ids)
	wr.dur = slices.MaxFunc(seen, time.Time.Compare).Sub(starts[0])
	wr.usage = usageBetween(before, h.sampleCPU())
	wr.writes = n
	for i := range ids {
		wr.diffs = append(wr.diffs, seen[i].Sub(starts[i]))
	}
	slices.Sort(wr.diffs)
	logf("floor: %s: watch after write start p50 %s, p99 %s; API server %s CPU per write",
		name, ms(pct(wr.diffs, 0.5)), ms(pct(wr.diffs, 0.99)), ms(wr.apiCPU/time.Duration(n)))
	return wr, h.k8s.Delete(ctx, cm)
}

// loadAvg is /proc/loadavg's three load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return na
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// ---- the table ----

// renderFloor writes the floor's table: (1), (2), and the floor under
// each of issue #11's latency targets.
func (r *results) renderFloor() string {
	c := r.cfg
	var b strings.Builder
	fmt.Fprintf(&b, "### directus-operator latency floor, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Commit %s, %d CPUs, %s. /proc/loadavg at the start %s, at the end %s.\n\n",
		r.commit, runtime.NumCPU(), r.directus, r.loadBefore, r.loadAfter)

	second := r.get(subjectSecond, "a")
	fmt.Fprintf(&b, "**1. Directus: a second raw subscriber after the first.** %d creates/s for %s into an empty collection; "+
		"two raw subscribers (same subscription as the bench, each on its own socket), the second subscribed after the first's init.\n\n",
		c.rate, c.rateFor)
	b.WriteString("| measure | p50 | p90 | p99 | max | items |\n|---|---|---|---|---|---|\n")
	if second != nil {
		fmt.Fprintf(&b, "| second subscriber's receipt − first's | %s | %s | %s | %s | %d |\n\n",
			ms(pct(second.diffs, 0.5)), ms(pct(second.diffs, 0.9)), ms(pct(second.diffs, 0.99)), ms(second.diffs[len(second.diffs)-1]), second.items)
	} else {
		b.WriteString("| second subscriber's receipt − first's | — | — | — | — | — |\n\n")
	}

	if burst := r.get(subjectSecond, "b"); burst != nil {
		fmt.Fprintf(&b, "**1b. Directus during a burst.** %d items in one POST; the same two subscribers.\n\n", c.burst)
		b.WriteString("| measure | p50 | p90 | p99 | second had all after the first had all | items |\n|---|---|---|---|---|---|\n")
		fmt.Fprintf(&b, "| second subscriber's receipt − first's | %s | %s | %s | %s | %d |\n\n",
			ms(pct(burst.diffs, 0.5)), ms(pct(burst.diffs, 0.9)), ms(pct(burst.diffs, 0.99)), ms(burst.complete), burst.items)
	}

	fmt.Fprintf(&b, "**2. Kubernetes API: write start → watch event.** %d writes/s for %s, each adding one key; "+
		"the harness's controller-runtime client (protobuf), direct to the API server, no Get; "+
		"the benchmark's ConfigMap watch (client-go).\n\n", c.rate, c.rateFor)
	b.WriteString("| ConfigMap | write | p50 | p90 | p99 | writes | API-server CPU per write, total (net of idle) | etcd CPU per write |\n" +
		"|---|---|---|---|---|---|---|---|\n")
	for _, wr := range r.writes {
		cpu, etcd := na, na
		if wr.cpuOK {
			cpu = ms(wr.apiCPU / time.Duration(wr.writes))
			if net, ok := r.netOfIdle(wr.usage, wr.dur); ok {
				cpu += fmt.Sprintf(" (%s)", ms(net/time.Duration(wr.writes)))
			}
			etcd = ms(wr.etcdCPU / time.Duration(wr.writes))
		}
		fmt.Fprintf(&b, "| %d keys, %s | %s | %s | %s | %s | %d | %s | %s |\n", wr.keys, byteSize(float64(wr.dataBytes)), wr.method,
			ms(pct(wr.diffs, 0.5)), ms(pct(wr.diffs, 0.9)), ms(pct(wr.diffs, 0.99)), wr.writes, cpu, etcd)
	}

	b.WriteString("\n**3. The floor under issue #11's latency targets** (after the raw subscriber, which subscribed first).\n\n")
	b.WriteString("| target (issue #11) | (1) Directus | best (2) Kubernetes | floor = (1) + (2) | larger of (1), (2) | target vs floor |\n" +
		"|---|---|---|---|---|---|\n")
	small, large := floorSizes(c)[0], floorSizes(c)[1]
	r.floorRow(&b, second, "**a.** 20 creates/s, empty mirror: p50 ≤ 5 ms", 0.5, 5*time.Millisecond, small)
	r.floorRow(&b, second, "**a.** 20 creates/s, empty mirror: p99 ≤ 25 ms", 0.99, 25*time.Millisecond, small)
	r.floorRow(&b, second, fmt.Sprintf("**c.** 20 creates/s, mirror of %d items: p50 ≤ 10 ms", large), 0.5, 10*time.Millisecond, large)
	r.burstFloorRow(&b, large)

	b.WriteString("\n")
	notes := []string{
		"- The floor adds the two delays' medians. For independent delays skewed to the right, the median of the sum is " +
			"usually above the sum of the medians, so the floor errs low. For p99 the sum would err high, so it is not shown. " +
			"\"Larger of (1), (2)\" is a strict lower bound for any quantile: a mirror's delay is the sum of both, each non-negative.",
		"- (2) leaves out what a real mirror adds: its client's Get or cache, the proxy the bench puts between the mirror " +
			"and the API server, and the mirror's own work.",
	}
	if r.idleOK {
		notes = append(notes, fmt.Sprintf("- API server at rest: %s of CPU in %s (etcd %s), subtracted pro rata for \"net of idle\". "+
			"CPU comes from /proc/<pid>/stat (10 ms steps).", ms(r.idleAPI), ms(r.idle), ms(r.idleEtcd)))
	}
	var loaded []string
	if second != nil {
		notes = append(notes, fmt.Sprintf("- (1): %s.", strings.Join(phaseDetails(second), "; ")))
		if second.busyOK && second.others > 0.10 {
			loaded = append(loaded, fmt.Sprintf("(1) (%.0f%%)", 100*second.others))
		}
	}
	for _, wr := range r.writes {
		if wr.busyOK {
			notes = append(notes, fmt.Sprintf("- (2) %d keys, %s: %d writes, last seen %s after the first started; "+
				"API server %s and etcd %s of CPU; machine %.0f%% busy, %.0f%% by other processes.",
				wr.keys, wr.method, wr.writes, ms(wr.dur), ms(wr.apiCPU), ms(wr.etcdCPU), 100*wr.busy, 100*wr.others))
			if wr.others > 0.10 {
				loaded = append(loaded, fmt.Sprintf("(2) %d keys %s (%.0f%%)", wr.keys, wr.method, 100*wr.others))
			}
		}
	}
	if len(loaded) > 0 {
		notes = append(notes, fmt.Sprintf("- **Other processes on the machine used more than 10%% of its CPU during %s: "+
			"those times are not representative.**", strings.Join(loaded, ", ")))
	}
	b.WriteString(strings.Join(append(notes, r.note...), "\n") + "\n")
	return b.String()
}

// burstFloorRow writes the floor under the burst's completion target: the
// mirror is complete at the earliest when a second subscriber has every
// item, plus one write of the whole mirror seen by a watch.
func (r *results) burstFloorRow(b *strings.Builder, keys int) {
	target := fmt.Sprintf("**b.** burst of %d: complete ≤ 1 s after the raw subscriber", r.cfg.burst)
	burst := r.get(subjectSecond, "b")
	var best *writeRun
	for _, wr := range r.writes {
		if wr.keys == keys && (best == nil || pct(wr.diffs, 0.5) < pct(best.diffs, 0.5)) {
			best = wr
		}
	}
	if burst == nil || best == nil {
		fmt.Fprintf(b, "| %s | — | — | — | — | — |\n", target)
		return
	}
	d, k := max(burst.complete, 0), pct(best.diffs, 0.5)
	v := "not below the floor"
	switch {
	case time.Second < max(d, k):
		v = "**below the strict bound**"
	case time.Second < d+k:
		v = "**below the floor**"
	}
	fmt.Fprintf(b, "| %s | %s (second had all) | %s (%s, p50) | %s | %s | %s |\n", target, ms(d), ms(k), best.method, ms(d+k), ms(max(d, k)), v)
}

// floorRow writes the floor under one target: the q-quantile of (1) plus
// the smaller q-quantile of the write loops on a ConfigMap of keys keys.
func (r *results) floorRow(b *strings.Builder, second *phaseResult, target string, q float64, limit time.Duration, keys int) {
	var best *writeRun
	for _, wr := range r.writes {
		if wr.keys == keys && (best == nil || pct(wr.diffs, q) < pct(best.diffs, q)) {
			best = wr
		}
	}
	if second == nil || best == nil {
		fmt.Fprintf(b, "| %s | — | — | — | — | — |\n", target)
		return
	}
	d, k := pct(second.diffs, q), pct(best.diffs, q)
	bound := max(d, k)
	// For a median, the sum errs low (see the notes); for a tail quantile
	// it errs high: two delays are seldom in their tails at once. There
	// only the strict bound is a floor.
	floor, floorCell := bound, "— (a tail: only the bound holds)"
	if q <= 0.5 {
		floor, floorCell = d+k, ms(d+k)
	}
	v := "not below the floor"
	switch {
	case limit < bound:
		v = "**below the strict bound**"
	case limit < floor:
		v = "**below the floor**"
	}
	fmt.Fprintf(b, "| %s | %s | %s (%s) | %s | %s | %s |\n", target, ms(d), ms(k), best.method, floorCell, ms(bound), v)
}
