//go:build cluster

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

package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/directus-operator/directus-operator/test/envtestutil"
)

// sidecarPod is config/samples/sidecar-pod.yaml as a user would adapt it:
// their app (here testapp watching the shared directory), the operator's
// image, their Directus and their query.
func sidecarPod(t *testing.T, ns, user string) *corev1.Pod {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(envtestutil.RepoRoot(), "config", "samples", "sidecar-pod.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(raw, &pod); err != nil {
		t.Fatalf("config/samples/sidecar-pod.yaml: %v", err)
	}
	pod.Namespace = ns
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		switch c.Name {
		case "app":
			c.Image, c.ImagePullPolicy, c.Command, c.Args = testappImage, corev1.PullNever, nil, []string{"watch", "/data"}
		case "directus-sidecar":
			c.Image = env["CLUSTER_OPERATOR_IMAGE"]
			for j, a := range c.Args {
				if strings.HasPrefix(a, "--query=") {
					c.Args[j] = fmt.Sprintf(`--query={"filter":{"user":{"_eq":%q}},"fields":["id","text","user"],"sort":["id"]}`, user)
				}
			}
			for j := range c.Env {
				if c.Env[j].Name == "DIRECTUS_URL" {
					c.Env[j].Value = directusURL
				}
			}
		default:
			t.Fatalf("config/samples/sidecar-pod.yaml has a container %s this test does not know", c.Name)
		}
	}
	return &pod
}

// configMapReader is a pod that mounts a ConfigMap as a volume and watches
// it with testapp: what users do without the sidecar.
func configMapReader(ns, configMap string) *corev1.Pod {
	yes := true
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "configmap-reader", Namespace: ns},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: new(bool),
			SecurityContext:              &corev1.PodSecurityContext{RunAsNonRoot: &yes},
			Volumes: []corev1.Volume{{Name: "mirror", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: configMap}},
			}}},
			Containers: []corev1.Container{{
				Name: "app", Image: testappImage, ImagePullPolicy: corev1.PullNever, Args: []string{"watch", "/mirror"},
				SecurityContext: restricted(),
				VolumeMounts:    []corev1.VolumeMount{{Name: "mirror", MountPath: "/mirror", ReadOnly: true}},
			}},
		},
	}
}

// sightings are the times an app (testapp watch) saw each item's file appear.
type sightings struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (s *sightings) get(id string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.at[id]
	return at, ok
}

// follow records what testapp's log says appeared, until the log ends.
func (s *sightings) follow(lines <-chan string) {
	for line := range lines {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "+" {
			continue
		}
		ns, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			continue
		}
		s.mu.Lock()
		s.at[strings.TrimSuffix(f[1], ".json")] = time.Unix(0, ns)
		s.mu.Unlock()
	}
}

// The sample sidecar pod runs beside an app container that reads the shared
// directory; a second pod reads the operator's ConfigMap mirror of the same
// items through a ConfigMap volume. Each new item must reach both; how long it
// takes each, side by side in one run, is the figure that tells users why the
// sidecar exists (docs/benchmarks.md).
func TestTheSidecarBesideAnAppAndAConfigMapVolume(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	ns := namespace(t, "operator")
	op := helmInstall(t, ns)
	op.available(t)
	app := namespace(t, "app")
	g.Expect(k8s.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "directus-token", Namespace: app},
		StringData: map[string]string{"token": botToken},
	})).To(Succeed())
	user := fmt.Sprintf("sidecar-%d", time.Now().UnixNano())
	subscribe(t, app, "messages", user)
	ready(t, app, "messages")

	side, reader := sidecarPod(t, app, user), configMapReader(app, "messages")
	g.Expect(k8s.Create(ctx, side)).To(Succeed())
	g.Expect(k8s.Create(ctx, reader)).To(Succeed())
	for _, p := range []*corev1.Pod{side, reader} {
		g.Eventually(func(g Gomega) {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(p), p)).To(Succeed())
			var ready bool
			for _, c := range p.Status.Conditions {
				ready = ready || c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
			}
			g.Expect(ready).To(BeTrue(), "pod %s Ready (the sidecar holds a complete snapshot)", p.Name)
		}, timeout, poll).Should(Succeed())
	}
	runsRestricted(t, *side, "directus-sidecar")

	logCtx, stop := context.WithCancel(ctx)
	defer stop()
	bySidecar, byVolume := &sightings{at: map[string]time.Time{}}, &sightings{at: map[string]time.Time{}}
	sideLog, volLog := podLogs(logCtx, t, app, side.Name, "app"), podLogs(logCtx, t, app, reader.Name, "app")
	sideDone, volDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(sideDone); bySidecar.follow(sideLog) }()
	go func() { defer close(volDone); byVolume.follow(volLog) }()

	// Five items, one a second: each is measured from just before its create.
	const n = 5
	created := map[string]time.Time{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := range n {
		<-tick.C
		at := time.Now()
		var out map[string]any
		g.Expect(bot.Do(ctx, "POST", "/items/messages", map[string]any{"text": fmt.Sprintf("sidecar %d", i), "user": user}, &out)).To(Succeed())
		created[fmt.Sprint(out["id"])] = at
	}
	// Both apps must see every item; the ConfigMap volume within the kubelet's
	// sync period (1 min by default) plus its cache's.
	g.Eventually(func() error {
		for id := range created {
			if _, ok := bySidecar.get(id); !ok {
				return fmt.Errorf("the sidecar's app has not seen item %s", id)
			}
			if _, ok := byVolume.get(id); !ok {
				return fmt.Errorf("the ConfigMap volume's app has not seen item %s", id)
			}
		}
		return nil
	}, 3*time.Minute, poll).Should(Succeed())
	stop()
	<-sideDone
	<-volDone

	viaSidecar, viaVolume := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	for id, at := range created {
		s, _ := bySidecar.get(id)
		v, _ := byVolume.get(id)
		viaSidecar = append(viaSidecar, s.Sub(at))
		viaVolume = append(viaVolume, v.Sub(at))
	}
	slices.Sort(viaSidecar)
	slices.Sort(viaVolume)
	t.Logf("cluster: a new item reaches the app: through the sidecar's directory median %s max %s; through a ConfigMap volume of the operator's mirror median %s max %s (%d items)",
		viaSidecar[n/2].Round(time.Millisecond), viaSidecar[n-1].Round(time.Millisecond),
		viaVolume[n/2].Round(time.Millisecond), viaVolume[n-1].Round(time.Millisecond), n)
}
