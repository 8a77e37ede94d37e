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
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
)

// subState is what the harness keeps of one DirectusSubscription: enough
// to judge it, recomputed on every watch event.
type subState struct {
	ready      bool // Ready=True, for the current generation (status and condition)
	conditions bool // Connected, Subscribed and Synced True
	items      int64
	since      time.Time // status.connection.since
	lastSync   time.Time // status.lastSyncTime
	why        string    // for a not-Ready one: the Ready reason
}

// expectation is what the ConfigMap of one subscription must hold.
type expectation struct {
	user string
	keys []string // ConfigMap data keys, sorted
}

// tracker follows the subscriptions and their ConfigMaps through informers
// (list + watch), so that "all Ready" is seen when the event arrives, not
// at the next poll.
type tracker struct {
	expected map[string]expectation // by subscription (and ConfigMap) name
	names    []string               // of expected, sub-0, sub-1, ...

	mu      sync.Mutex
	subs    map[string]subState
	cmOK    map[string]bool
	changed chan struct{}
	// While watching (the restart phase, the settle window): names seen
	// not Ready at any moment.
	watching bool
	lost     map[string]bool
	// Updates seen (a new resourceVersion) since resetWrites: of the
	// subscriptions (status patches, once the finalizer is on) and of the
	// expected ConfigMaps.
	subWrites, cmWrites int
}

func newTracker(expected map[string]expectation) *tracker {
	names := slices.Collect(maps.Keys(expected))
	slices.SortFunc(names, func(a, b string) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return &tracker{expected: expected, names: names, subs: map[string]subState{}, cmOK: map[string]bool{}, changed: make(chan struct{}, 1)}
}

// start runs the informers until ctx ends and waits for their first list.
func (t *tracker) start(ctx context.Context, cfg *rest.Config, scheme *runtime.Scheme, namespace string) error {
	c, err := cache.New(cfg, cache.Options{Scheme: scheme, DefaultNamespaces: map[string]cache.Config{namespace: {}}})
	if err != nil {
		return err
	}
	subInf, err := c.GetInformer(ctx, &v1alpha1.DirectusSubscription{})
	if err != nil {
		return err
	}
	cmInf, err := c.GetInformer(ctx, &corev1.ConfigMap{})
	if err != nil {
		return err
	}
	if _, err := subInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { t.onSub(obj, false) },
		UpdateFunc: func(old, obj any) {
			t.countWrite(old, obj, &t.subWrites)
			t.onSub(obj, false)
		},
		DeleteFunc: func(obj any) { t.onSub(obj, true) },
	}); err != nil {
		return err
	}
	if _, err := cmInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { t.onConfigMap(obj, false) },
		UpdateFunc: func(old, obj any) {
			t.countWrite(old, obj, &t.cmWrites)
			t.onConfigMap(obj, false)
		},
		DeleteFunc: func(obj any) { t.onConfigMap(obj, true) },
	}); err != nil {
		return err
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("the harness's informers did not sync")
	}
	return nil
}

func (t *tracker) notify() {
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// countWrite counts an update event that carries a new resourceVersion
// (a resync repeats the old one).
func (t *tracker) countWrite(old, obj any, n *int) {
	o, ok1 := old.(client.Object)
	c, ok2 := obj.(client.Object)
	if !ok1 || !ok2 || o.GetResourceVersion() == c.GetResourceVersion() {
		return
	}
	if _, isCM := c.(*corev1.ConfigMap); isCM {
		if _, known := t.expected[c.GetName()]; !known {
			return
		}
	}
	t.mu.Lock()
	*n++
	t.mu.Unlock()
}

// resetWrites returns the updates counted so far and starts again from 0.
func (t *tracker) resetWrites() (subWrites, cmWrites int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	subWrites, cmWrites = t.subWrites, t.cmWrites
	t.subWrites, t.cmWrites = 0, 0
	return subWrites, cmWrites
}

func unwrap(obj any) any {
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		return d.Obj
	}
	return obj
}

func timeOf(t *metav1.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.Time
}

func (t *tracker) onSub(obj any, deleted bool) {
	s, ok := unwrap(obj).(*v1alpha1.DirectusSubscription)
	if !ok {
		return
	}
	st := subState{items: s.Status.Items, since: timeOf(s.Status.Connection.Since), lastSync: timeOf(s.Status.LastSyncTime)}
	readyCond := meta.FindStatusCondition(s.Status.Conditions, v1alpha1.ConditionReady)
	st.ready = readyCond != nil && readyCond.Status == metav1.ConditionTrue &&
		readyCond.ObservedGeneration == s.Generation && s.Status.ObservedGeneration == s.Generation
	st.conditions = true
	for _, typ := range []string{v1alpha1.ConditionConnected, v1alpha1.ConditionSubscribed, v1alpha1.ConditionSynced} {
		if !meta.IsStatusConditionTrue(s.Status.Conditions, typ) {
			st.conditions = false
		}
	}
	switch {
	case readyCond == nil:
		st.why = "no Ready condition"
	case s.Status.ObservedGeneration != s.Generation || readyCond.ObservedGeneration != s.Generation:
		st.why = "observedGeneration behind generation"
	case readyCond.Status != metav1.ConditionTrue:
		st.why = "Ready=" + string(readyCond.Status) + "/" + readyCond.Reason
	}
	t.mu.Lock()
	if deleted {
		delete(t.subs, s.Name)
	} else {
		t.subs[s.Name] = st
		if t.watching && !st.ready {
			t.lost[s.Name] = true
		}
	}
	t.mu.Unlock()
	t.notify()
}

func (t *tracker) onConfigMap(obj any, deleted bool) {
	cm, ok := unwrap(obj).(*corev1.ConfigMap)
	if !ok {
		return
	}
	want, known := t.expected[cm.Name]
	if !known {
		return
	}
	good := !deleted && configMapMatches(cm.Data, want)
	t.mu.Lock()
	t.cmOK[cm.Name] = good
	t.mu.Unlock()
	t.notify()
}

// configMapMatches: exactly the expected keys (PerItem layout), each an
// item of the expected user.
func configMapMatches(data map[string]string, want expectation) bool {
	keys := slices.Sorted(maps.Keys(data))
	if !slices.Equal(keys, want.keys) {
		return false
	}
	for _, v := range data {
		var item struct {
			User string `json:"user"`
		}
		if err := json.Unmarshal([]byte(v), &item); err != nil || item.User != want.user {
			return false
		}
	}
	return true
}

// refresh replaces what the informers delivered with a direct List of
// both kinds, so that a final verdict never rests on a watch that lags.
func (t *tracker) refresh(ctx context.Context, k8s client.Reader, namespace string) error {
	subs := &v1alpha1.DirectusSubscriptionList{}
	if err := k8s.List(ctx, subs, client.InNamespace(namespace)); err != nil {
		return err
	}
	cms := &corev1.ConfigMapList{}
	if err := k8s.List(ctx, cms, client.InNamespace(namespace)); err != nil {
		return err
	}
	t.mu.Lock()
	t.subs, t.cmOK = map[string]subState{}, map[string]bool{}
	t.mu.Unlock()
	for i := range subs.Items {
		t.onSub(&subs.Items[i], false)
	}
	for i := range cms.Items {
		t.onConfigMap(&cms.Items[i], false)
	}
	return nil
}

// counts is one look at every subscription.
type counts struct {
	total, ready, correct, stale int
	// why lists, for those not correct, the first thing wrong, with counts
	// and a few names to look up in the operator's log.
	why      map[string]int
	examples map[string][]string
}

func (c counts) whySummary(max int) string {
	type kv struct {
		k string
		v int
	}
	list := make([]kv, 0, len(c.why))
	for k, v := range c.why {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v || list[i].v == list[j].v && list[i].k < list[j].k })
	var parts []string
	for i, e := range list {
		if i == max {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("%d %s (e.g. %s)", e.v, e.k, strings.Join(c.examples[e.k], ", ")))
	}
	return strings.Join(parts, ", ")
}

// count judges every expected subscription. fresh is the earliest time a
// status may carry to count as written by the current operator process
// (zero: any); statuses carry whole seconds.
func (t *tracker) count(fresh time.Time) counts {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := counts{total: len(t.expected), why: map[string]int{}, examples: map[string][]string{}}
	for _, name := range t.names {
		st, seen := t.subs[name]
		isFresh := fresh.IsZero() || !st.since.Before(fresh) || !st.lastSync.Before(fresh)
		if seen && !isFresh {
			c.stale++
		}
		if seen && st.ready {
			c.ready++
		}
		var why string
		switch {
		case !seen:
			why = "not created"
		case !st.ready:
			why = st.why
		case !st.conditions:
			why = "Ready=True but Connected/Subscribed/Synced not all True"
		case !isFresh:
			why = "stale status (not written by the restarted operator)"
		case st.items != itemsPerUser:
			why = fmt.Sprintf("status.items=%d", st.items)
		case !t.cmOK[name]:
			why = "ConfigMap content wrong or missing"
		}
		if why == "" {
			c.correct++
		} else {
			c.why[why]++
			if len(c.examples[why]) < 3 {
				c.examples[why] = append(c.examples[why], name)
			}
		}
	}
	return c
}

// waitFor waits until done(counts) holds or timeout passes, logging
// progress. It returns the time taken (from start), whether done held, and
// the last counts.
func (t *tracker) waitFor(ctx context.Context, label string, start time.Time, timeout time.Duration, fresh time.Time,
	done func(counts) bool, progress func(counts) string) (time.Duration, bool, counts) {
	deadline := time.NewTimer(time.Until(start.Add(timeout)))
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		c := t.count(fresh)
		if done(c) {
			return time.Since(start), true, c
		}
		select {
		case <-ctx.Done():
			return time.Since(start), false, c
		case <-deadline.C:
			c = t.count(fresh)
			return time.Since(start), done(c), c
		case <-tick.C:
			logf("%s: %s after %s", label, progress(c), seconds(time.Since(start)))
		case <-t.changed:
			// Coalesce a burst of watch events into one look.
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// latest returns the latest status.connection.since and
// status.lastSyncTime of the expected subscriptions. Both are taken by the
// operator when the socket came up and when the target became current, not
// when the status was written, so they tell how long the Directus side
// took, apart from the status writes.
func (t *tracker) latest() (since, lastSync time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, name := range t.names {
		st := t.subs[name]
		if st.since.After(since) {
			since = st.since
		}
		if st.lastSync.After(lastSync) {
			lastSync = st.lastSync
		}
	}
	return since, lastSync
}

// watchLost starts recording the subscriptions that are not Ready at any
// moment (those not Ready now included), until lostSince.
func (t *tracker) watchLost() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.watching, t.lost = true, map[string]bool{}
	for name := range t.expected {
		if st, ok := t.subs[name]; !ok || !st.ready {
			t.lost[name] = true
		}
	}
}

// lostSince stops the recording watchLost started and returns how many
// subscriptions were not Ready at some moment meanwhile.
func (t *tracker) lostSince() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.watching = false
	return len(t.lost)
}

// settle watches for d and returns how many subscriptions were not Ready at
// some moment during the window.
func (t *tracker) settle(ctx context.Context, d time.Duration) (lost int, interrupted bool) {
	t.watchLost()
	select {
	case <-ctx.Done():
		interrupted = true
	case <-time.After(d):
	}
	return t.lostSince(), interrupted
}
