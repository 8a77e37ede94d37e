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
	"cmp"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func (r *results) render() string {
	n := r.cfg.n
	na := "n/a"
	var b strings.Builder
	fmt.Fprintf(&b, "### directus-operator scale benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Commit %s, %d CPUs. %s. Operator flags from BENCH_OPERATOR_ARGS: `%s`.\n\n",
		r.commit, runtime.NumCPU(), r.directus, strings.Join(r.cfg.operatorArgs, " "))
	row := func(measure, value, target string) { fmt.Fprintf(&b, "| %s | %s | %s |\n", measure, value, target) }
	b.WriteString("| measure | value | target |\n|---|---|---|\n")
	row("subscriptions", strconv.Itoa(n), "")

	reached := func(ok bool, d time.Duration) string {
		if ok {
			return seconds(d)
		}
		return fmt.Sprintf("not reached in %s", seconds(d))
	}
	for _, f := range r.reads {
		cpu := "Directus CPU n/a (in-process fake)"
		if f.cpuOK {
			cpu = "Directus CPU " + seconds(f.cpu)
		}
		row(fmt.Sprintf("%d full reads of %d items %s, %d at a time, before the operator runs", f.reads, itemsPerUser, f.way, readsAtOnce),
			fmt.Sprintf("%s (%s)", seconds(f.took), cpu), "")
	}
	row(fmt.Sprintf("all created (%d workers)", r.cfg.workers), orNA(r.created > 0, seconds(r.created)), "")
	row("all Ready after apply", reached(r.applyReached, r.applyReady), "")
	row("status correct after apply", fmt.Sprintf("%d / %d", r.applyCounts.correct, n), fmt.Sprintf("%d / %d", n, n))
	shutdown := "—"
	if r.shutdownDone {
		shutdown = seconds(r.shutdown)
		if r.killed {
			shutdown = fmt.Sprintf("did not exit in %s: killed", seconds(r.shutdown))
		}
	}
	row("operator exit after SIGTERM", shutdown, "")
	restart, restartCorrect := "—", "—"
	if r.restartStarted {
		restart = reached(r.restartReached, r.restartReady)
		restartCorrect = fmt.Sprintf("%d / %d", r.restartCounts.correct, n)
	}
	row("all Ready + status correct after restart", restart, "≤ 15 s")
	row("status correct after restart", restartCorrect, fmt.Sprintf("%d / %d", n, n))
	left, writes := "—", "—"
	if r.restartStarted {
		left = strconv.Itoa(r.restartLost)
		writes = fmt.Sprintf("%d status (%.2f per subscription, %.0f/s), %d ConfigMap; %d status during the shutdown",
			r.restartSubWrites, float64(r.restartSubWrites)/float64(n), float64(r.restartSubWrites)/r.restartReady.Seconds(),
			r.restartCMs, r.shutdownSubWrites)
	}
	row("subscriptions that left Ready during the restart", left, "")
	if r.restartReached {
		row("after restart, latest status.connection.since / status.lastSyncTime (whole seconds)",
			fmt.Sprintf("%s / %s", seconds(r.restartLastSocket), seconds(r.restartLastSync)), "")
	}
	row("writes seen by watch from the restart until all correct", writes, "")
	notReady, stale, settleCorrect := "—", "—", "—"
	if r.settleDone {
		notReady = fmt.Sprintf("%d (%d left Ready during the window)", n-r.settleCounts.ready, r.settleLost)
		stale = strconv.Itoa(r.settleCounts.stale)
		settleCorrect = fmt.Sprintf("%d / %d", r.settleCounts.correct, n)
	}
	row(fmt.Sprintf("not Ready after a %s settle", seconds(r.cfg.settle)), notReady, "0")
	row("status correct after the settle", settleCorrect, fmt.Sprintf("%d / %d", n, n))
	row("statuses not rewritten since the restart (stale)", stale, "0")

	// The settled figures: after the restart and the settle window, with
	// the figures after apply in parentheses.
	final, first := r.afterRestart, r.afterApply
	if !r.settleDone {
		final, first = r.afterApply, figures{}
	}
	both := func(now string, nowOK bool, then string, thenOK bool) string {
		v := orNA(nowOK, now)
		if thenOK {
			v += fmt.Sprintf(" (after apply: %s)", then)
		}
		return v
	}
	row("operator RSS", both(mib(final.rss), final.rssOK, mib(first.rss), first.rssOK), "≤ 100 MiB")
	split := func(f figures) string { return fmt.Sprintf("%s / %s", mib(f.rssAnon), mib(f.rssFile)) }
	row("operator RSS: anonymous (heap, stacks, runtime) / file-backed (the binary's pages)",
		both(split(final), final.rssSplitOK, split(first), first.rssSplitOK), "")
	row("operator Go heap in use", both(mib(int64(final.heapInuse)), final.heapInuseOK, mib(int64(first.heapInuse)), first.heapInuseOK), "")
	perSub := func(g float64) string { return fmt.Sprintf("%.0f, %.2f per subscription", g, g/float64(n)) }
	row("goroutines", both(perSub(final.goroutines), final.goroutinesOK, fmt.Sprintf("%.0f", first.goroutines), first.goroutinesOK),
		fmt.Sprintf("≤ 2 per subscription + constant (%d + c)", 2*n))
	// Every subscription here has the same Directus identity (URL and
	// token): one distinct connection, so ceil(N / cap) sockets in all.
	wantSockets := r.wantSockets()
	row("sockets by state (directus_operator_connections)", both(states(final.connections), final.connections != nil,
		states(first.connections), first.connections != nil), fmt.Sprintf("Connected=%d", wantSockets))
	row("established TCP sockets to Directus", both(strconv.Itoa(final.sockets), final.socketsOK, strconv.Itoa(first.sockets), first.socketsOK),
		fmt.Sprintf("%d = ceil(%d / %d) per distinct connection (1 distinct here)", wantSockets, n, r.subsPerSocket))
	row("Kubernetes API requests by method (rest_client_requests_total, since the process started)",
		both(counted(final.apiRequests), final.apiRequests != nil, counted(first.apiRequests), first.apiRequests != nil), "")
	dxRSS := both(mib(final.dxRSS), final.dxRSSOK, mib(first.dxRSS), first.dxRSSOK)
	if r.cfg.mode == modeFake {
		dxRSS = na + " (fake, in the harness process)"
	}
	row("Directus RSS", dxRSS, "")

	var notes []string
	for _, x := range []struct {
		when string
		c    counts
		ok   bool
	}{{"after apply", r.applyCounts, r.applyStarted}, {"after restart", r.restartCounts, r.restartStarted}, {"after the settle", r.settleCounts, r.settleDone}} {
		if x.ok && x.c.correct < n {
			notes = append(notes, fmt.Sprintf("- not correct %s: %s", x.when, x.c.whySummary(8)))
		}
	}
	if r.settleDone && final.connections != nil && r.settleCounts.ready < n {
		connected, other := 0, 0
		for state, v := range final.connections {
			if state == stateConnected {
				connected += int(v)
			} else {
				other += int(v)
			}
		}
		if connected >= wantSockets && other == 0 {
			notes = append(notes, fmt.Sprintf("- frozen statuses: the restarted operator's metrics count all its %d sockets Connected "+
				"and none in another state, but %d of %d statuses are not Ready", connected, n-r.settleCounts.ready, n))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	fmt.Fprintf(&b, "\nOperator logs: %s", r.firstLog)
	if r.restartedLog != "" {
		fmt.Fprintf(&b, ", %s (restarted)", r.restartedLog)
	}
	b.WriteString(".\n")
	return b.String()
}

// wantSockets is the socket target: ceil(N / subscriptions per socket),
// for the one distinct connection (URL and token) all subscriptions share.
func (r *results) wantSockets() int {
	per := r.subsPerSocket
	if per < 1 {
		per = defaultSubsPerSocket
	}
	return (r.cfg.n + per - 1) / per
}

// counted renders counts by key, largest first.
func counted(m map[string]float64) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.0f", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// states renders sockets by state, Connected first.
func states(m map[string]float64) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return btoi(b == stateConnected) - btoi(a == stateConnected) })
	var parts []string
	for _, k := range keys {
		if m[k] == 0 && k != stateConnected {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%.0f", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func orNA(ok bool, v string) string {
	if ok {
		return v
	}
	return "n/a"
}
