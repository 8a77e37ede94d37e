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
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
)

// subjectPhases are the phases a subject runs: the sidecar's target is
// phase a's only; the second subscriber runs a and the burst b (Directus
// reads one row per event whatever the collection holds, so c would say
// what a says).
func subjectPhases(subject string) []phaseSpec {
	switch subject {
	case subjectSidecar:
		return phases[:1]
	case subjectSecond:
		return phases[:2]
	}
	return phases
}

func collectionName(subject string, ph phaseSpec) string {
	return fmt.Sprintf("bench_%s_%s", subject, ph.coll)
}

// runSubject runs the phases for one subject. For a fresh phase, the raw
// subscriber subscribes first and the subject is attached only after the
// raw subscription's init arrived.
func runSubject(ctx context.Context, h *harness, s subject, res *results) error {
	var raw, target *tracker
	var detach []func()
	undo := func() {
		for _, f := range slices.Backward(detach) {
			f()
		}
		detach = nil
	}
	defer undo()
	for _, ph := range subjectPhases(s.name()) {
		coll := collectionName(s.name(), ph)
		if ph.fresh {
			undo()
			var stopRaw func()
			var err error
			if raw, stopRaw, err = subscribeRaw(ctx, h.raw, coll, 30*time.Second); err != nil {
				return err
			}
			detach = append(detach, stopRaw)
			logf("%s: raw subscriber subscribed to %s (init received); attaching the %s", s.name(), coll, s.name())
			t0 := time.Now()
			if target, err = s.attach(ctx, coll); err != nil {
				s.detach(coll)
				return fmt.Errorf("%s: attach to %s: %w", s.name(), coll, err)
			}
			detach = append(detach, func() { s.detach(coll) })
			logf("%s: mirror of %s in sync after %s", s.name(), coll, ms(time.Since(t0)))
		}
		pr, err := runPhase(ctx, h, s, ph, coll, raw, target)
		if pr != nil {
			res.set(s.name(), ph.id, pr)
		}
		if err != nil {
			return fmt.Errorf("%s, phase %s: %w", s.name(), ph.id, err)
		}
	}
	return nil
}

// sample is what the harness reads at a phase's start and end.
type sample struct {
	api, etcd  time.Duration
	cpuOK      bool
	stats      writeStats
	writes     int
	opWrites   float64
	opWritesOK bool
	reconnects float64
	retries    int64

	machineTotal, machineBusy int64 // /proc/stat ticks, all CPUs
	ours                      time.Duration
	machineOK                 bool
}

func takeSample(h *harness, s subject, coll string, target *tracker) sample {
	sm := h.sampleCPU()
	if h.proxy != nil && s.configMap(coll) != "" {
		h.proxy.settle(5 * time.Second)
		sm.stats = h.proxy.stats(s.configMap(coll))
	}
	sm.writes = target.writeCount()
	if s.name() == subjectOperator {
		if samples, ok := scrapeMetrics(h.metricsAddr); ok {
			sm.opWrites, sm.opWritesOK = sumSeries(samples, "directus_operator_target_writes_total", `target="configmap"`, `result="success"`)
			sm.reconnects, _ = sumSeries(samples, "directus_operator_reconnects_total")
		}
	}
	sm.retries = h.dx.retries.Load()
	return sm
}

// sampleCPU reads the CPU time of the API server, etcd, the machine and
// this benchmark's processes.
func (h *harness) sampleCPU() sample {
	var sm sample
	if h.apiPID > 0 {
		a, err1 := benchkit.CPUTime(h.apiPID)
		e, err2 := benchkit.CPUTime(h.etcdPID)
		sm.api, sm.etcd, sm.cpuOK = a, e, err1 == nil && err2 == nil
	}
	if total, busy, err := machineTicks(); err == nil {
		sm.machineTotal, sm.machineBusy, sm.machineOK = total, busy, true
		// This benchmark's processes: the harness (with the naive mirror,
		// the proxy and the watches), and its children: the control plane,
		// the operator, the sidecar; and Directus (started by setsid, so
		// not a child).
		sm.ours = benchkit.TreeCPU(os.Getpid())
		if h.dx.PID() > 0 {
			sm.ours += benchkit.TreeCPU(h.dx.PID())
		}
	}
	return sm
}

// usageBetween is what was spent from before to after.
func usageBetween(before, after sample) usage {
	var u usage
	if before.cpuOK && after.cpuOK {
		u.apiCPU, u.etcdCPU, u.cpuOK = after.api-before.api, after.etcd-before.etcd, true
	}
	if before.machineOK && after.machineOK && after.machineTotal > before.machineTotal {
		total := float64(after.machineTotal - before.machineTotal)
		busy := float64(after.machineBusy - before.machineBusy)
		ours := float64((after.ours-before.ours)*benchkit.ClockTicks) / float64(time.Second)
		u.busy, u.others, u.busyOK = busy/total, max(busy-ours, 0)/total, true
	}
	return u
}

// untilFailed ends with ctx or when the subject fails (the operator or the
// sidecar exits, the naive loop fails), checked every 100 ms.
func untilFailed(ctx context.Context, s subject) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancelCause(ctx)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-c.Done():
				return
			case <-tick.C:
				if err := s.failed(); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	return c, func() { cancel(nil) }
}

func runPhase(ctx context.Context, h *harness, s subject, ph phaseSpec, coll string, raw, target *tracker) (*phaseResult, error) {
	pctx, cancel := context.WithTimeoutCause(ctx, h.cfg.phaseTimeout, errDeadline)
	defer cancel()
	pctx, stop := untilFailed(pctx, s)
	defer stop()
	what := fmt.Sprintf("%d creates/s for %s", h.cfg.rate, h.cfg.rateFor)
	if ph.burst {
		what = fmt.Sprintf("a burst of %d items", h.cfg.burst)
	}
	logf("%s, phase %s: %s into %s", s.name(), ph.id, what, coll)

	before := takeSample(h, s, coll, target)
	t0 := time.Now()
	var keys []string
	var err error
	if ph.burst {
		keys, err = burst(pctx, h, coll, fmt.Sprintf("%s %s", s.name(), ph.id))
	} else {
		keys, err = fixedRate(pctx, h, coll, fmt.Sprintf("%s %s", s.name(), ph.id))
	}
	sent := time.Since(t0)
	if err != nil {
		return nil, phaseErr(pctx, "create items", err)
	}
	if err := raw.waitAll(pctx, keys); err != nil {
		return nil, phaseErr(pctx, fmt.Sprintf("the raw subscriber saw %d of %d items", len(keys)-raw.missing(keys), len(keys)), err)
	}
	if err := target.waitAll(pctx, keys); err != nil {
		return nil, phaseErr(pctx, fmt.Sprintf("the %s's target holds %d of %d items", s.name(), len(keys)-target.missing(keys), len(keys)), err)
	}
	end := time.Now()
	after := takeSample(h, s, coll, target)

	pr := &phaseResult{items: len(keys), sent: sent, dur: end.Sub(t0), writes: after.writes - before.writes,
		retries: after.retries - before.retries}
	rawT, tgtT := raw.times(keys), target.times(keys)
	var lastRaw, lastTgt time.Time
	for i := range keys {
		pr.diffs = append(pr.diffs, tgtT[i].Sub(rawT[i]))
		if rawT[i].After(lastRaw) {
			lastRaw = rawT[i]
		}
		if tgtT[i].After(lastTgt) {
			lastTgt = tgtT[i]
		}
	}
	slices.Sort(pr.diffs)
	pr.complete = lastTgt.Sub(lastRaw)
	if h.proxy != nil && s.configMap(coll) != "" {
		pr.stats, pr.statsOK = after.stats.minus(before.stats), true
	}
	pr.usage = usageBetween(before, after)
	if before.opWritesOK && after.opWritesOK {
		pr.opWrites, pr.opWritesOK = after.opWrites-before.opWrites, true
		pr.reconnects = after.reconnects - before.reconnects
	}
	logf("%s, phase %s: %d items; after the raw subscriber p50 %s, p99 %s; all %s after; %d writes; API server %s CPU",
		s.name(), ph.id, pr.items, ms(pct(pr.diffs, 0.5)), ms(pct(pr.diffs, 0.99)), ms(pr.complete), pr.writes, ms(pr.apiCPU))
	return pr, nil
}

// phaseErr names why a phase stopped: the deadline, the subject failing,
// an interrupt, or err.
func phaseErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			return fmt.Errorf("%s: %w", what, cause)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// fixedRate creates rate items per second for rateFor, one REST POST each,
// on a fixed schedule (an open loop: a slow answer does not delay the next
// create; at most 16 are in flight). It returns the created keys.
func fixedRate(ctx context.Context, h *harness, coll, label string) ([]string, error) {
	n := int(float64(h.cfg.rate) * h.cfg.rateFor.Seconds())
	keys := make([]string, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(h.cfg.rate))
	defer tick.Stop()
	for i := range n {
		if i > 0 {
			select {
			case <-ctx.Done():
				wg.Wait()
				return nil, ctx.Err()
			case <-tick.C: // the workload's pace
			}
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			k, err := h.dx.createOne(ctx, coll, benchItem(label, i))
			if err != nil {
				errs <- err
				return
			}
			keys[i] = k
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return keys, nil
}

// burst creates h.cfg.burst items in POSTs of h.cfg.burstBatch items.
func burst(ctx context.Context, h *harness, coll, label string) ([]string, error) {
	var keys []string
	for from := 0; from < h.cfg.burst; from += h.cfg.burstBatch {
		to := min(from+h.cfg.burstBatch, h.cfg.burst)
		items := make([]map[string]any, 0, to-from)
		for i := from; i < to; i++ {
			items = append(items, benchItem(label, i))
		}
		k, err := h.dx.createMany(ctx, coll, items)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	return keys, nil
}
