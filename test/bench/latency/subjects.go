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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
)

// A subject is what is measured: it mirrors a collection into a target
// (a ConfigMap or a directory) whose writes a tracker follows.
type subject interface {
	// name is the column heading.
	name() string
	// attach starts mirroring collection and returns the target's tracker
	// once the mirror holds the collection (its first write was seen).
	attach(ctx context.Context, collection string) (*tracker, error)
	// detach stops mirroring collection and stops its tracker.
	detach(collection string)
	// configMap is the ConfigMap collection is mirrored into ("" when the
	// target is not a ConfigMap).
	configMap(collection string) string
	// failed reports a failure of the subject itself (the process exited,
	// the loop failed), nil while it runs.
	failed() error
}

// takeRun removes a subject's run for a collection from runs, under mu,
// and returns it (nil when there is none).
func takeRun[T any](mu *sync.Mutex, runs map[string]*T, coll string) *T {
	mu.Lock()
	defer mu.Unlock()
	r := runs[coll]
	delete(runs, coll)
	return r
}

// configMapName is the ConfigMap (and DirectusSubscription) name of a
// bench collection.
func configMapName(collection string) string { return strings.ReplaceAll(collection, "_", "-") }

// ---- the operator ----

type operatorSubject struct {
	h     *harness
	mu    sync.Mutex
	stops map[string]func()
}

func (o *operatorSubject) name() string                 { return subjectOperator }
func (o *operatorSubject) configMap(coll string) string { return configMapName(coll) }
func (o *operatorSubject) failed() error {
	if o.h.op.Exited() {
		return o.h.op.exitError()
	}
	return nil
}

func (o *operatorSubject) attach(ctx context.Context, coll string) (*tracker, error) {
	h := o.h
	name := configMapName(coll)
	tr, stop, err := watchConfigMap(ctx, h.cs, namespace, name)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	o.stops[coll] = stop
	o.mu.Unlock()
	sub := &v1alpha1.DirectusSubscription{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: v1alpha1.DirectusSubscriptionSpec{
			DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
				URL:  h.dx.URL(),
				Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Name: secretName, Key: "token"}},
			},
			Collection: coll,
			Target:     v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{Name: name}},
		},
	}
	if err := h.k8s.Create(ctx, sub); err != nil {
		return nil, fmt.Errorf("create DirectusSubscription %s: %w", name, err)
	}
	// Ready for its generation: connected, subscribed, and the ConfigMap
	// written (Synced). Polled, with a deadline.
	rctx, cancel := context.WithTimeout(ctx, h.cfg.readyTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var cur v1alpha1.DirectusSubscription
		if err := h.k8s.Get(rctx, client.ObjectKeyFromObject(sub), &cur); err == nil {
			c := meta.FindStatusCondition(cur.Status.Conditions, v1alpha1.ConditionReady)
			if c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == cur.Generation {
				break
			}
		}
		if err := o.failed(); err != nil {
			return nil, err
		}
		select {
		case <-rctx.Done():
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("DirectusSubscription %s not Ready in %s: %w; see %s", name, h.cfg.readyTimeout, errDeadline, h.op.LogPath)
		case <-tick.C:
		}
	}
	if err := tr.waitFor(rctx, func() bool { return tr.writes > 0 }); err != nil {
		return nil, fmt.Errorf("ConfigMap %s: no write seen after Ready: %w", name, err)
	}
	return tr, nil
}

func (o *operatorSubject) detach(coll string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sub := &v1alpha1.DirectusSubscription{ObjectMeta: metav1.ObjectMeta{Name: configMapName(coll), Namespace: namespace}}
	if err := o.h.k8s.Delete(ctx, sub); err != nil && !apierrors.IsNotFound(err) {
		logf("delete DirectusSubscription %s: %v", sub.Name, err)
	}
	o.mu.Lock()
	stop := o.stops[coll]
	delete(o.stops, coll)
	o.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// ---- the naive mirror ----

// naiveSubject is the comparison: a loop in the harness that subscribes
// like the raw subscriber and, for every message, reads the ConfigMap and
// updates it whole (Get + Update), one write per event. It starts from a
// full REST read, so it is a correct mirror, only a naive one. It talks to
// the API server through the same proxy as the operator, with no
// client-side rate limit.
type naiveSubject struct {
	h      *harness
	client client.Client

	mu   sync.Mutex
	runs map[string]*naiveRun
	err  error
}

type naiveRun struct {
	rt     *realtime.Client
	cancel context.CancelFunc
	done   chan struct{}
	stop   func()
}

func (n *naiveSubject) name() string                 { return subjectNaive }
func (n *naiveSubject) configMap(coll string) string { return configMapName(coll) }
func (n *naiveSubject) failed() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

func (n *naiveSubject) fail(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err == nil {
		n.err = err
	}
}

func (n *naiveSubject) attach(ctx context.Context, coll string) (*tracker, error) {
	h := n.h
	name := configMapName(coll)
	tr, stop, err := watchConfigMap(ctx, h.cs, namespace, name)
	if err != nil {
		return nil, err
	}
	rt, err := realtime.New(h.realtimeOptions("naive mirror"))
	if err != nil {
		stop()
		return nil, err
	}
	sub, err := rt.Subscribe(ctx, realtime.SubscribeOptions{Collection: coll})
	if err != nil {
		stop()
		_ = rt.Close()
		return nil, err
	}
	if err := rt.Connect(ctx); err != nil {
		stop()
		_ = rt.Close()
		return nil, fmt.Errorf("naive mirror: connect: %w", err)
	}
	rest, err := realtime.NewREST(realtime.RESTOptions{Server: realtime.Server{URL: h.dx.URL(), Auth: realtime.Auth{AccessToken: h.dx.Token()}}})
	if err != nil {
		stop()
		_ = rt.Close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	run := &naiveRun{rt: rt, cancel: cancel, done: make(chan struct{}), stop: stop}
	n.mu.Lock()
	n.runs[coll] = run
	n.mu.Unlock()
	go func() {
		defer close(run.done)
		if err := n.loop(lctx, rest, sub, coll, name); err != nil && lctx.Err() == nil {
			n.fail(fmt.Errorf("naive mirror of %s: %w", coll, err))
			tr.fail(err)
		}
	}()
	rctx, rcancel := context.WithTimeout(ctx, h.cfg.readyTimeout)
	defer rcancel()
	if err := tr.waitFor(rctx, func() bool { return tr.writes > 0 }); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("naive mirror of %s: no ConfigMap write in %s: %w", coll, h.cfg.readyTimeout, errDeadline)
		}
		return nil, err
	}
	return tr, nil
}

// loop applies every message to the ConfigMap, one Get + Update each.
func (n *naiveSubject) loop(ctx context.Context, rest *realtime.REST, sub *realtime.Subscription, coll, name string) error {
	for m := range sub.C() {
		switch m.Kind {
		case realtime.KindInit, realtime.KindGap:
			// The init is capped at 100 items: read the collection in full.
			items, err := rest.ReadAll(ctx, coll, nil, realtime.ReadOptions{})
			if err != nil {
				return fmt.Errorf("read %s: %w", coll, err)
			}
			data := make(map[string]string, len(items))
			for _, it := range items {
				k, v, err := keyValue(it)
				if err != nil {
					return err
				}
				data[k] = v
			}
			if err := n.write(ctx, name, func(cm *corev1.ConfigMap) { cm.Data = data }); err != nil {
				return err
			}
		case realtime.KindCreate, realtime.KindUpdate:
			kvs := make(map[string]string, len(m.Items))
			for _, it := range m.Items {
				k, v, err := keyValue(it)
				if err != nil {
					return err
				}
				kvs[k] = v
			}
			if err := n.write(ctx, name, func(cm *corev1.ConfigMap) {
				if cm.Data == nil {
					cm.Data = map[string]string{}
				}
				maps.Copy(cm.Data, kvs)
			}); err != nil {
				return err
			}
		case realtime.KindDelete:
			if err := n.write(ctx, name, func(cm *corev1.ConfigMap) {
				for _, k := range m.Keys {
					delete(cm.Data, benchkit.DataKey(k))
				}
			}); err != nil {
				return err
			}
		case realtime.KindError:
			return fmt.Errorf("subscription error: %w", m.Err)
		}
	}
	return nil
}

// write is the naive write: Get the ConfigMap from the API server, change
// it, Update it whole (Create the first time).
func (n *naiveSubject) write(ctx context.Context, name string, change func(*corev1.ConfigMap)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cm corev1.ConfigMap
		err := n.client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cm)
		if apierrors.IsNotFound(err) {
			cm = corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
			change(&cm)
			return n.client.Create(ctx, &cm)
		}
		if err != nil {
			return err
		}
		change(&cm)
		return n.client.Update(ctx, &cm)
	})
}

// keyValue is an item's PerItem data key and its compact JSON.
func keyValue(item json.RawMessage) (string, string, error) {
	k, err := itemID(item)
	if err != nil {
		return "", "", err
	}
	var b bytes.Buffer
	if err := json.Compact(&b, item); err != nil {
		return "", "", err
	}
	return benchkit.DataKey(k), b.String(), nil
}

func (n *naiveSubject) detach(coll string) {
	run := takeRun(&n.mu, n.runs, coll)
	if run == nil {
		return
	}
	run.cancel()
	_ = run.rt.Close()
	<-run.done
	run.stop()
}

// ---- the sidecar, with a directory target ----

// sidecarSubject runs `directus-operator sidecar --target-dir` as a
// subprocess for each collection and follows the directory with inotify.
type sidecarSubject struct {
	h    *harness
	mu   sync.Mutex
	runs map[string]*sidecarRun
}

type sidecarRun struct {
	p    *proc
	stop func()
}

func (s *sidecarSubject) name() string            { return subjectSidecar }
func (s *sidecarSubject) configMap(string) string { return "" }
func (s *sidecarSubject) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runs {
		if r.p.Exited() {
			return r.p.exitError()
		}
	}
	return nil
}

func (s *sidecarSubject) attach(ctx context.Context, coll string) (*tracker, error) {
	h := s.h
	dir := filepath.Join(h.work, "sidecar-"+coll)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	tr, stop, err := watchDir(dir)
	if err != nil {
		return nil, err
	}
	port, err := benchkit.FreePort()
	if err != nil {
		stop()
		return nil, err
	}
	probe := fmt.Sprintf("127.0.0.1:%d", port)
	args := slices.Concat([]string{subjectSidecar, "--url", h.dx.URL(), "--collection", coll, "--target-dir", dir,
		"--health-probe-bind-address", probe, "--log-format", "text"},
		h.cfg.sidecarArgs)
	if a, ok := benchkit.FlagValue(args, "health-probe-bind-address"); ok {
		probe = benchkit.Loopback(a)
	}
	logPath := filepath.Join(h.work, "sidecar-"+coll+".log")
	p, err := startProc(subjectSidecar, h.bin, args, []string{"DIRECTUS_TOKEN=" + h.dx.Token()}, logPath)
	if err != nil {
		stop()
		return nil, err
	}
	s.mu.Lock()
	s.runs[coll] = &sidecarRun{p: p, stop: stop}
	s.mu.Unlock()
	logf("sidecar for %s: pid %d, log %s", coll, p.PID(), logPath)
	if err := p.waitOK(ctx, "http://"+probe+"/readyz", h.cfg.readyTimeout); err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, h.cfg.readyTimeout)
	defer cancel()
	if err := tr.waitFor(rctx, func() bool { return tr.writes > 0 }); err != nil {
		return nil, fmt.Errorf("sidecar directory %s: no index.json written after ready: %w", dir, err)
	}
	return tr, nil
}

func (s *sidecarSubject) detach(coll string) {
	r := takeRun(&s.mu, s.runs, coll)
	if r == nil {
		return
	}
	r.p.Terminate(10 * time.Second)
	r.stop()
}
