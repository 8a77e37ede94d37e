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
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers/mirror"
	"github.com/directus-operator/directus-operator/realtime/fakedirectus"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

// dotEnv renders messages as KEY=value lines, one per item.
const dotEnv = `{{ range sortBy "user" .Items }}{{ .user }}={{ quote .text }}
{{ end }}`

func TestATemplateRendersTheMirrorIntoOneKeyAndFollowsChanges(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "one", "user": "B"}, map[string]any{"text": "two", "user": "A"})
	w.subscription("env", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target.ConfigMap.Template = &v1alpha1.TemplateSpec{Key: ".env", Text: dotEnv}
	})
	obj := w.ready("env")
	w.mirrorData("env", func(g Gomega, d map[string]string) {
		g.Expect(d).To(Equal(map[string]string{".env": "A=\"two\"\nB=\"one\"\n"}))
	})
	w.dx.Update("messages", []any{1}, map[string]any{"text": "uno"})
	w.dx.Delete("messages", 2)
	w.mirrorData("env", func(g Gomega, d map[string]string) {
		g.Expect(d).To(Equal(map[string]string{".env": "B=\"uno\"\n"}))
	})
	w.g.Expect(cond(obj, v1alpha1.ConditionSynced).Message).To(ContainSubstring("holds the 2 items"), "status.items counts items, not keys")
}

func TestATemplateRendersIntoASecret(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "s3cr3t", "user": "API_KEY"})
	w.subscription("env", func(s *v1alpha1.DirectusSubscriptionSpec) {
		secretTarget(s)
		s.Target.Secret.Template = &v1alpha1.TemplateSpec{Key: ".env", Text: dotEnv}
	})
	w.ready("env")
	w.secretData("env", func(g Gomega, d map[string]string) {
		g.Expect(d).To(Equal(map[string]string{".env": "API_KEY=\"s3cr3t\"\n"}))
	})
}

func TestATemplateThatDoesNotParseStallsTheSubscription(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.subscription("broken", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Target.ConfigMap.Template = &v1alpha1.TemplateSpec{Key: "app.yaml", Text: "a: 1\nb: {{ .Items "}
	})
	obj := w.condition("broken", v1alpha1.ConditionReady, metav1.ConditionFalse, v1alpha1.ReasonInvalidTemplate)
	w.g.Expect(cond(obj, v1alpha1.ConditionReady).Message).To(ContainSubstring("app.yaml:2"), "the message names the line")
	w.g.Expect(cond(obj, v1alpha1.ConditionStalled).Status).To(Equal(metav1.ConditionTrue))
	w.g.Expect(w.configMap("broken")).To(BeNil())

	w.update("broken", func(s *v1alpha1.DirectusSubscription) { s.Spec.Target.ConfigMap.Template.Text = "a: 1\n" })
	w.ready("broken")
	w.mirrorData("broken", func(g Gomega, d map[string]string) { g.Expect(d).To(Equal(map[string]string{"app.yaml": "a: 1\n"})) })
}

func TestATemplateThatFailsOnTheDataKeepsTheLastGoodContent(t *testing.T) {
	w := newWorld(t, fakedirectus.Options{})
	w.dx.Create("messages", map[string]any{"text": "hello", "user": "u"})
	// len fails on a missing text: a failure that depends on the data,
	// not on the template.
	w.subscription("fragile", func(s *v1alpha1.DirectusSubscriptionSpec) {
		s.Query = &v1alpha1.DirectusQuery{Fields: []string{"id", "text"}}
		s.Target.ConfigMap.Template = &v1alpha1.TemplateSpec{Key: "out", Text: "{{ range .Items }}{{ len .text }}\n{{ end }}"}
	})
	w.ready("fragile")
	good := w.mirrorData("fragile", func(g Gomega, d map[string]string) { g.Expect(d).To(Equal(map[string]string{"out": "5\n"})) })

	w.dx.Update("messages", []any{1}, map[string]any{"text": nil})
	obj := w.condition("fragile", v1alpha1.ConditionSynced, metav1.ConditionFalse, v1alpha1.ReasonTemplateFailed)
	w.g.Expect(cond(obj, v1alpha1.ConditionSynced).Message).To(MatchRegexp(`out:1:\d+`), "line and column")
	w.g.Consistently(func() map[string]string { return w.configMap("fragile").Data }, 500*time.Millisecond, 50*time.Millisecond).Should(Equal(good))

	w.dx.Update("messages", []any{1}, map[string]any{"text": "hi"})
	w.ready("fragile")
	w.mirrorData("fragile", func(g Gomega, d map[string]string) { g.Expect(d).To(Equal(map[string]string{"out": "2\n"})) })
}

func TestTheTemplateSampleRendersAnAppYAML(t *testing.T) {
	g := NewWithT(t)
	raw, err := os.ReadFile(filepath.Join(envtestutil.RepoRoot(), "config/samples/realtime_v1alpha1_directussubscription_template.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	sample := &v1alpha1.DirectusSubscription{}
	g.Expect(yaml.UnmarshalStrict(raw, sample)).To(Succeed())
	spec := sample.Spec.Target.Secret.Template
	tmpl, err := mirror.ParseTemplate(spec.Key, spec.Text)
	g.Expect(err).NotTo(HaveOccurred())
	m := mirror.New(mirror.PerItem, "").WithTemplate(tmpl)
	m.Replace(map[string]json.RawMessage{
		"site_name":   json.RawMessage(`{"key":"site_name","value":"Example","group":"site"}`),
		"checkout":    json.RawMessage(`{"key":"checkout","value":true,"group":"feature"}`),
		"beta_search": json.RawMessage(`{"key":"beta_search","value":false,"group":"feature"}`),
	})
	r, err := m.Render()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(r.Data["app.yaml"]).To(MatchYAML(`{site_name: Example, checkout: true, beta_search: false, features: [beta_search, checkout]}`))
}
