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

package controllers_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
)

// requestResync sets the requestedAt annotation to value, as
// kubectl annotate --overwrite does.
func (w *world) requestResync(name, value string) {
	w.update(name, func(s *v1alpha1.DirectusSubscription) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[v1alpha1.AnnotationRequestedAt] = value
	})
}

// resyncHandled waits until the status shows the request handled.
func (w *world) resyncHandled(name, value string) {
	w.t.Helper()
	w.g.Eventually(func() string { return w.get(name).Status.LastHandledResyncAt }, timeout, 50*time.Millisecond).Should(Equal(value))
}

func TestTheRequestedAtAnnotationResyncsAChangeDirectusDidNotAnnounce(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "announced", "user": "u"})
	w.subscription("ondemand", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.ResyncInterval = &metav1.Duration{} // no periodic resync: only the request reads again
		s.Query = &v1alpha1.DirectusQuery{Fields: []string{"id", "text"}}
	})
	w.ready("ondemand")
	w.g.Expect(w.get("ondemand").Status.LastHandledResyncAt).To(BeEmpty())

	// A write that bypasses Directus's hooks (straight into its database)
	// sends no realtime event.
	w.dx.SetSilently("messages", map[string]any{"id": 2, "text": "behind its back", "user": "u"})
	w.g.Consistently(func() map[string]string { return w.configMap("ondemand").Data }, time.Second, 100*time.Millisecond).
		Should(HaveLen(1), "nothing reads the collection again by itself")

	w.requestResync("ondemand", "2026-11-30T10:00:00Z")
	w.mirrorData("ondemand", func(g Gomega, d map[string]string) {
		g.Expect(d).To(HaveKeyWithValue("2.json", MatchJSON(`{"id":2,"text":"behind its back"}`)))
	})
	w.resyncHandled("ondemand", "2026-11-30T10:00:00Z")
	obj := w.ready("ondemand")
	w.g.Expect(obj.Generation).To(BeEquivalentTo(1), "an annotation is no spec change")

	// The same value again is no new request; a new value is.
	w.dx.SetSilently("messages", map[string]any{"id": 3, "text": "again", "user": "u"})
	w.requestResync("ondemand", "2026-11-30T10:05:00Z")
	w.mirrorData("ondemand", func(g Gomega, d map[string]string) { g.Expect(d).To(HaveKey("3.json")) })
	w.resyncHandled("ondemand", "2026-11-30T10:05:00Z")
}

func TestAResyncRequestOnAnEventsTargetIsHandledAtOnce(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("events", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target = v1alpha1.TargetSpec{Events: &v1alpha1.EventsTarget{}}
	})
	w.ready("events")
	w.requestResync("events", "now")
	w.resyncHandled("events", "now")
}
