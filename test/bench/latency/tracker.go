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
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/directus-operator/directus-operator/realtime"
)

// tracker records when each item key was first seen at one place (the raw
// subscriber, a ConfigMap, a directory) and how many writes that place
// saw. Waits are on its change signal, never on a timer.
type tracker struct {
	mu      sync.Mutex
	seen    map[string]time.Time
	writes  int
	changed chan struct{}
	err     error
}

func newTracker() *tracker {
	return &tracker{seen: map[string]time.Time{}, changed: make(chan struct{})}
}

// add records keys first seen at at; write counts one write of the target.
func (t *tracker) add(at time.Time, write bool, keys iter.Seq[string]) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k := range keys {
		if _, ok := t.seen[k]; !ok {
			t.seen[k] = at
		}
	}
	if write {
		t.writes++
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// fail records that the source broke; waits return err.
func (t *tracker) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *tracker) writeCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.writes
}

// times returns when each key was first seen (zero: not seen).
func (t *tracker) times(keys []string) []time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]time.Time, len(keys))
	for i, k := range keys {
		out[i] = t.seen[k]
	}
	return out
}

// waitFor waits until cond holds (checked under the lock at every change),
// the source fails or ctx ends.
func (t *tracker) waitFor(ctx context.Context, cond func() bool) error {
	for {
		t.mu.Lock()
		ok, err, ch := cond(), t.err, t.changed
		t.mu.Unlock()
		switch {
		case ok:
			return nil
		case err != nil:
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// waitAll waits until every key was seen.
func (t *tracker) waitAll(ctx context.Context, keys []string) error {
	return t.waitFor(ctx, func() bool {
		for _, k := range keys {
			if _, ok := t.seen[k]; !ok {
				return false
			}
		}
		return true
	})
}

// missing counts the keys not seen yet.
func (t *tracker) missing(keys []string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, k := range keys {
		if _, ok := t.seen[k]; !ok {
			n++
		}
	}
	return n
}

// ---- item keys ----

// itemID reads an item's primary key "id" as text (Directus sends numbers).
func itemID(item json.RawMessage) (string, error) {
	var v struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(item, &v); err != nil {
		return "", err
	}
	s := strings.Trim(string(v.ID), `"`)
	if s == "" || s == "null" {
		return "", fmt.Errorf("item has no id: %.100s", item)
	}
	return s, nil
}

// dataKeyToKey reverses benchkit.DataKey.
func dataKeyToKey(dk string) (string, bool) {
	s, ok := strings.CutSuffix(dk, ".json")
	if !ok {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			b.WriteByte(s[i])
			continue
		}
		if i+3 > len(s) {
			return "", false
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), true
}

func itemKeysOfData(data map[string]string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for dk := range data {
			if k, ok := dataKeyToKey(dk); ok && !yield(k) {
				return
			}
		}
	}
}

// ---- the raw subscriber ----

// subscribeRaw subscribes c to the collection (no query, every event: the
// same subscription the operator makes) and waits for its init, so that
// whatever subscribes later is served after it. Items are stamped with
// Message.Received, when the client read the frame.
func subscribeRaw(ctx context.Context, c *realtime.Client, collection string, timeout time.Duration) (*tracker, func(), error) {
	sub, err := c.Subscribe(ctx, realtime.SubscribeOptions{Collection: collection})
	if err != nil {
		return nil, nil, err
	}
	tr := newTracker()
	inited := make(chan struct{})
	var once sync.Once
	go func() {
		var epoch uint64
		for m := range sub.C() {
			if epoch == 0 {
				epoch = m.Epoch
			} else if m.Epoch != epoch {
				// Directus replays nothing: what it sent while the socket was
				// down is lost, so the items cannot be timed.
				tr.fail(fmt.Errorf("raw subscriber, %s: the connection to Directus dropped and came back (epoch %d → %d), "+
					"so messages were lost; Directus was too busy to answer a ping for minutes (see its log)", collection, epoch, m.Epoch))
				epoch = m.Epoch
			}
			switch m.Kind {
			case realtime.KindInit, realtime.KindCreate, realtime.KindUpdate:
				var keys []string
				for _, it := range m.Items {
					if k, err := itemID(it); err == nil {
						keys = append(keys, k)
					}
				}
				tr.add(m.Received, false, slices.Values(keys))
				if m.Kind == realtime.KindInit {
					once.Do(func() { close(inited) })
				}
			case realtime.KindError:
				tr.fail(fmt.Errorf("raw subscriber, %s: %w", collection, m.Err))
			case realtime.KindGap:
				tr.fail(fmt.Errorf("raw subscriber, %s: messages were lost (gap)", collection))
			}
		}
	}()
	stop := func() {
		uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sub.Unsubscribe(uctx)
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case <-inited:
		return tr, stop, nil
	case <-wctx.Done():
		stop()
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		tr.mu.Lock()
		err := tr.err
		tr.mu.Unlock()
		return nil, nil, fmt.Errorf("raw subscriber: no init for %s in %s (%w): %w", collection, timeout, err, errDeadline)
	}
}

// ---- a ConfigMap, through a Kubernetes watch ----

// watchConfigMap follows ConfigMap ns/name with a watch: every ADDED or
// MODIFIED event is one write, stamped when the harness received it.
func watchConfigMap(ctx context.Context, cs kubernetes.Interface, ns, name string) (*tracker, func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	opts := metav1.ListOptions{FieldSelector: "metadata.name=" + name}
	w, err := cs.CoreV1().ConfigMaps(ns).Watch(ctx, opts)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	tr := newTracker()
	done := make(chan struct{})
	go func() {
		defer close(done)
		rv := ""
		for {
			for ev := range w.ResultChan() {
				now := time.Now()
				switch ev.Type {
				case watch.Added, watch.Modified:
					cm, ok := ev.Object.(*corev1.ConfigMap)
					if !ok {
						continue
					}
					rv = cm.ResourceVersion
					tr.add(now, true, itemKeysOfData(cm.Data))
				case watch.Error:
					if ctx.Err() == nil {
						tr.fail(fmt.Errorf("watch of ConfigMap %s/%s: %v", ns, name, ev.Object))
					}
				}
			}
			if ctx.Err() != nil {
				return
			}
			// The API server ended the watch: resume after the last write seen.
			o := opts
			o.ResourceVersion = rv
			if w, err = cs.CoreV1().ConfigMaps(ns).Watch(ctx, o); err != nil {
				if ctx.Err() == nil {
					tr.fail(fmt.Errorf("watch of ConfigMap %s/%s again: %w", ns, name, err))
				}
				return
			}
		}
	}()
	return tr, func() { cancel(); <-done }, nil
}

// ---- a directory, through inotify ----

// watchDir follows the sidecar's target directory with inotify: a data
// file renamed into place (<key>.json) is the item showing up, and every
// index.json written is one write (the store writes it last, once per
// write).
func watchDir(dir string) (*tracker, func(), error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("inotify_init1: %w", err)
	}
	wd, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_MOVED_TO|syscall.IN_CLOSE_WRITE)
	if err != nil {
		_ = syscall.Close(fd)
		return nil, nil, fmt.Errorf("inotify_add_watch %s: %w", dir, err)
	}
	tr := newTracker()
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, err := syscall.Read(fd, buf)
			now := time.Now()
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if err != nil || n <= 0 {
				tr.fail(fmt.Errorf("read inotify events of %s: %w", dir, err))
				return
			}
			var keys []string
			index, ignored := false, false
			for off := 0; off+syscall.SizeofInotifyEvent <= n; {
				mask := binary.NativeEndian.Uint32(buf[off+4:])
				l := int(binary.NativeEndian.Uint32(buf[off+12:]))
				name := strings.TrimRight(string(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+l]), "\x00")
				off += syscall.SizeofInotifyEvent + l
				switch {
				case mask&syscall.IN_IGNORED != 0:
					ignored = true
				case name == "" || strings.HasPrefix(name, "."):
				case name == "index.json":
					index = true
				default:
					if k, ok := dataKeyToKey(name); ok {
						keys = append(keys, k)
					}
				}
			}
			tr.add(now, index, slices.Values(keys))
			if ignored {
				return // the watch was removed: stop
			}
		}
	}()
	stop := func() {
		_, _ = syscall.InotifyRmWatch(fd, uint32(wd)) // wakes the reader with IN_IGNORED
		<-done
		_ = syscall.Close(fd)
	}
	return tr, stop, nil
}
