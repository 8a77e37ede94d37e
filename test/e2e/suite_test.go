//go:build e2e

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

// Package e2e runs the operator against a real Directus (installed from npm
// by hack/directus.sh) and a real kube-apiserver (envtest).
package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/controllers/hub"
	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

const (
	botToken = "bot-static-token"
	botEmail = "bot@example.com"
	timeout  = 60 * time.Second
	poll     = 100 * time.Millisecond
)

var (
	k8s     client.WithWatch
	dx      *lab
	admin   *realtime.REST
	bot     *realtime.REST
	botPass string

	// apiProxy sits between the operator and the API server.
	apiProxy     *proxy
	operatorCfg  *rest.Config
	stopOperator func() error
)

// startOperator runs the operator in-process, through apiProxy.
func startOperator() error {
	stop, err := envtestutil.StartOperator(operatorCfg, controllers.Options{Hub: hub.Options{StatusInterval: time.Second}})
	if err != nil {
		return err
	}
	stopOperator = stop
	return nil
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	if os.Getenv("TEST_VERBOSE_LOGS") != "" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
	}
	port := 18055
	if p, err := strconv.Atoi(os.Getenv("DIRECTUS_E2E_PORT")); err == nil {
		port = p
	}
	dx = &lab{port: port, state: fmt.Sprintf("%s/directus-operator-e2e-%d", os.TempDir(), port)}
	start := time.Now()
	if err := dx.start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = dx.stop() }()
	fmt.Printf("e2e: a real Directus is up at %s after %s\n", dx.url(), time.Since(start).Round(time.Second))
	adminPass := fmt.Sprintf("admin-password-%d", port)
	botPass = fmt.Sprintf("bot-password-%d", port)
	var err error
	if admin, err = realtime.NewREST(realtime.RESTOptions{Server: realtime.Server{URL: dx.url(), Auth: realtime.Auth{Email: "admin@example.com", Password: adminPass}}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if bot, err = realtime.NewREST(realtime.RESTOptions{Server: realtime.Server{URL: dx.url(), Auth: realtime.Auth{AccessToken: botToken}}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	env, cfg, err := envtestutil.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	// The operator reaches the API server through a proxy that a fault
	// can cut, and can be stopped and started again.
	host := cfg.Host
	if !strings.Contains(host, "://") {
		host = "https://" + host
	}
	apiURL, err := url.Parse(host)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if apiProxy, err = newProxy("http://" + apiURL.Host); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	operatorCfg = rest.CopyConfig(cfg)
	operatorCfg.Host = "https://" + strings.TrimPrefix(apiProxy.url(), "http://")
	if err := startOperator(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if k8s, err = client.NewWithWatch(cfg, client.Options{Scheme: controllers.Scheme()}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := stopOperator(); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		return 1
	}
	return code
}

// ns creates a namespace for one test with the bot's credentials in a
// Secret named directus.
func ns(t *testing.T) string {
	t.Helper()
	g := NewWithT(t)
	name := fmt.Sprintf("e2e-%d", time.Now().UnixNano()%1_000_000_000)
	g.Expect(k8s.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})).To(Succeed())
	g.Expect(k8s.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "directus", Namespace: name},
		StringData: map[string]string{"token": botToken, "email": botEmail, "password": botPass},
	})).To(Succeed())
	return name
}

// subscribe creates a DirectusSubscription of messages with the bot's
// static token and a ConfigMap target named after it, changed by mutate.
func subscribe(t *testing.T, namespace, name string, mutate func(s *v1alpha1.DirectusSubscriptionSpec)) {
	t.Helper()
	obj := &v1alpha1.DirectusSubscription{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: v1alpha1.DirectusSubscriptionSpec{
			DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
				URL:  dx.url(),
				Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Name: "directus", Key: "token"}},
				Reconnect: &v1alpha1.ReconnectSpec{
					InitialDelay: &metav1.Duration{Duration: 200 * time.Millisecond},
					MaxDelay:     &metav1.Duration{Duration: 2 * time.Second},
				},
			},
			Collection: "messages",
			Target:     v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{}},
		},
	}
	if mutate != nil {
		mutate(&obj.Spec)
	}
	NewWithT(t).Expect(k8s.Create(context.Background(), obj)).To(Succeed())
}

// condition waits for the current generation's condition.
func condition(t *testing.T, namespace, name, typ string, status metav1.ConditionStatus, reason string) *v1alpha1.DirectusSubscription {
	t.Helper()
	var obj *v1alpha1.DirectusSubscription
	NewWithT(t).Eventually(func(g Gomega) {
		obj = &v1alpha1.DirectusSubscription{}
		g.Expect(k8s.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, obj)).To(Succeed())
		g.Expect(obj.Status.ObservedGeneration).To(Equal(obj.Generation))
		c := meta.FindStatusCondition(obj.Status.Conditions, typ)
		g.Expect(c).NotTo(BeNil())
		g.Expect(string(c.Status)+"/"+c.Reason).To(Equal(string(status)+"/"+reason), "%s: %s", typ, c.Message)
	}, timeout, poll).Should(Succeed())
	return obj
}

func ready(t *testing.T, namespace, name string) *v1alpha1.DirectusSubscription {
	t.Helper()
	return condition(t, namespace, name, v1alpha1.ConditionReady, metav1.ConditionTrue, v1alpha1.ReasonReady)
}

// configMapData waits until the ConfigMap's data satisfies match.
func configMapData(t *testing.T, namespace, name string, match func(g Gomega, d map[string]string)) map[string]string {
	t.Helper()
	var data map[string]string
	NewWithT(t).Eventually(func(g Gomega) {
		cm := &corev1.ConfigMap{}
		err := k8s.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, cm)
		if apierrors.IsNotFound(err) {
			g.Expect(err).NotTo(HaveOccurred())
		}
		g.Expect(err).NotTo(HaveOccurred())
		data = cm.Data
		match(g, cm.Data)
	}, timeout, poll).Should(Succeed())
	return data
}

func rawJSON(s string) *apiextensionsv1.JSON { return &apiextensionsv1.JSON{Raw: []byte(s)} }
