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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

// kube is one control plane for the package's tests that need the API
// server, started by the first of them and stopped by TestMain.
var kube struct {
	once sync.Once
	env  *envtest.Environment
	cfg  *rest.Config
	err  error
}

func kubeConfig(t *testing.T) *rest.Config {
	t.Helper()
	kube.once.Do(func() { kube.env, kube.cfg, kube.err = envtestutil.Start() })
	if kube.err != nil {
		t.Fatalf("envtest: %v", kube.err)
	}
	return kube.cfg
}

func TestMain(m *testing.M) {
	code := m.Run()
	if kube.env != nil {
		_ = kube.env.Stop()
	}
	os.Exit(code)
}

// sampleDocs decodes config/samples/<name> into its YAML documents.
func sampleDocs(t *testing.T, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "config", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, doc)
	}
}

// installSampleRBAC creates the sample's ServiceAccount, Role and
// RoleBinding in ns and returns a config that acts as that ServiceAccount.
func installSampleRBAC(t *testing.T, admin client.Client, cfg *rest.Config, ns string) *rest.Config {
	t.Helper()
	g := NewWithT(t)
	docs := sampleDocs(t, "sidecar-configmap.yaml")
	sa, role, binding := &corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}
	for i, obj := range []client.Object{sa, role, binding} {
		g.Expect(yaml.UnmarshalStrict(docs[i], obj)).To(Succeed())
		obj.SetNamespace(ns)
		g.Expect(admin.Create(context.Background(), obj)).To(Succeed())
	}
	sa2 := rest.CopyConfig(cfg)
	sa2.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + sa.Name}
	return sa2
}

// replica is one pod's sidecar writing the ConfigMap.
type replica struct {
	name, uid, base string
	run             *run
}

func (r *replica) readiness(g Gomega) readiness {
	code, body := probe(r.base + "/readyz")
	var rd readiness
	g.Expect(json.Unmarshal([]byte(body), &rd)).To(Succeed(), body)
	want := http.StatusServiceUnavailable
	if rd.Ready {
		want = http.StatusOK
	}
	g.Expect(code).To(Equal(want))
	return rd
}

func (r *replica) directus(g Gomega) (int, directusHealth) {
	code, body := probe(r.base + "/healthz/directus")
	var h directusHealth
	g.Expect(json.Unmarshal([]byte(body), &h)).To(Succeed(), body)
	return code, h
}

func TestSidecarReplicasOnOneConfigMapHaveOneWriterAndHandOver(t *testing.T) {
	g := NewWithT(t)
	cfg := kubeConfig(t)
	admin, err := client.New(cfg, client.Options{})
	g.Expect(err).NotTo(HaveOccurred())
	ctx := context.Background()
	ns := "apps-" + utilrand.String(5) // -count runs again on the same control plane
	g.Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	asSidecar := installSampleRBAC(t, admin, cfg, ns)

	s := fixture(t)
	s.SetSilently("messages", map[string]any{"text": "one", "user": "a"})
	timings := &leaseTimings{Duration: 2 * time.Second, RenewDeadline: 1500 * time.Millisecond, RetryPeriod: 100 * time.Millisecond}
	startReplica := func(name, uid string) *replica {
		e := env{"DIRECTUS_TOKEN": botToken, "POD_NAMESPACE": ns, "POD_NAME": name, "POD_UID": uid}
		base, r := startSidecar(t, []string{"--url", s.URL(), "--collection", "messages", "--target-configmap", "messages", "--layout", "List",
			"--query", `{"fields":["id","text","user"],"sort":["id"]}`}, e,
			sidecarHooks{kubeConfig: func() (*rest.Config, error) { return asSidecar, nil }, lease: timings})
		return &replica{name: name, uid: uid, base: base, run: r}
	}
	cmKey := types.NamespacedName{Namespace: ns, Name: "messages"}
	// mirrored returns the ConfigMap's items' texts and its controller.
	mirrored := func(g Gomega) ([]string, string) {
		cm := &corev1.ConfigMap{}
		g.Expect(admin.Get(ctx, cmKey, cm)).To(Succeed())
		var items []struct{ Text string }
		g.Expect(json.Unmarshal([]byte(cm.Data["items.json"]), &items)).To(Succeed())
		texts := make([]string, 0, len(items))
		for _, it := range items {
			texts = append(texts, it.Text)
		}
		g.Expect(cm.OwnerReferences).To(HaveLen(1), "one owner: the leader Pod")
		ref := cm.OwnerReferences[0]
		g.Expect([]string{ref.APIVersion, ref.Kind}).To(Equal([]string{"v1", "Pod"}))
		g.Expect(ref.Controller).To(HaveValue(BeTrue()))
		return texts, ref.Name + "/" + string(ref.UID)
	}

	web0 := startReplica("web-0", "uid-0")
	g.Eventually(func(g Gomega) {
		texts, owner := mirrored(g)
		g.Expect(texts).To(Equal([]string{"one"}))
		g.Expect(owner).To(Equal("web-0/uid-0"))
		g.Expect(web0.readiness(g)).To(Equal(readiness{Ready: true, Target: "ConfigMap/messages", Items: 1, Role: roleLeader, Leader: "web-0"}))
	}).WithTimeout(wait).Should(Succeed())

	web1 := startReplica("web-1", "uid-1")
	g.Eventually(func(g Gomega) {
		rd := web1.readiness(g)
		g.Expect(rd.Ready).To(BeTrue(), "the ConfigMap holds a complete snapshot")
		g.Expect([]string{rd.Role, rd.Leader}).To(Equal([]string{roleStandby, "web-0"}))
		code, h := web1.directus(g)
		g.Expect(code).To(Equal(http.StatusOK), "standing by is not a failure")
		g.Expect(h.Message).To(ContainSubstring("standing by"))
		g.Expect(h.Reasons).To(BeEmpty(), "no ConfigMapNotOwned")
	}).WithTimeout(wait).Should(Succeed())
	g.Expect(s.Connections()).To(Equal(1), "only the leader connects to Directus")
	s.Create("messages", map[string]any{"text": "two", "user": "b"})
	g.Eventually(func(g Gomega) {
		texts, owner := mirrored(g)
		g.Expect(texts).To(Equal([]string{"one", "two"}))
		g.Expect(owner).To(Equal("web-0/uid-0"), "only the leader writes")
	}).WithTimeout(wait).Should(Succeed())

	// The leader goes away; what changes meanwhile reaches the ConfigMap
	// through the next leader, which adopts it.
	g.Expect(web0.run.stop(t)).To(Equal(0))
	lease := &coordinationv1.Lease{}
	g.Expect(admin.Get(ctx, types.NamespacedName{Namespace: ns, Name: "messages-directus-sidecar"}, lease)).To(Succeed())
	g.Expect(lease.Spec.HolderIdentity).NotTo(HaveValue(Equal("web-0")), "released on shutdown, not left to expire")
	s.Create("messages", map[string]any{"text": "three", "user": "c"})
	g.Eventually(func(g Gomega) {
		texts, owner := mirrored(g)
		g.Expect(texts).To(Equal([]string{"one", "two", "three"}))
		g.Expect(owner).To(Equal("web-1/uid-1"))
		g.Expect(web1.readiness(g)).To(Equal(readiness{Ready: true, Target: "ConfigMap/messages", Items: 3, Role: roleLeader, Leader: "web-1"}))
		code, h := web1.directus(g)
		g.Expect(code).To(Equal(http.StatusOK), "%v", h.Reasons)
	}).WithTimeout(wait).Should(Succeed())
	g.Expect(admin.Get(ctx, types.NamespacedName{Namespace: ns, Name: "messages-directus-sidecar"}, lease)).To(Succeed())
	g.Expect(lease.Spec.HolderIdentity).To(HaveValue(Equal("web-1")))
	s.Create("messages", map[string]any{"text": "four", "user": "d"})
	g.Eventually(func(g Gomega) []string { texts, _ := mirrored(g); return texts }).WithTimeout(wait).
		Should(Equal([]string{"one", "two", "three", "four"}))
}

func TestSidecarAdoptsOnlyAConfigMapAnotherSidecarPodWrote(t *testing.T) {
	store := configMapStore(nil, "messages", &podRef{Namespace: "apps", Name: "web-1", UID: "uid-1"})
	ours := map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelSubscription: "messages"}
	controller := func(apiVersion, kind string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: "x", UID: "uid-x", Controller: new(true)}}
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		owners []metav1.OwnerReference
		adopt  bool
	}{
		{"an earlier leader Pod's", ours, controller("v1", "Pod"), true},
		{"a DirectusSubscription's", ours, controller(v1alpha1.GroupVersion.String(), "DirectusSubscription"), false},
		{"a Pod's without the sidecar's labels", map[string]string{"app": "web"}, controller("v1", "Pod"), false},
		{"another sidecar's, for another name", map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByValue, v1alpha1.LabelSubscription: "other"},
			controller("v1", "Pod"), false},
		{"one without a controller", ours, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "messages", Labels: tc.labels, OwnerReferences: tc.owners}}
			NewWithT(t).Expect(store.Adopt(cm)).To(Equal(tc.adopt))
		})
	}
}
