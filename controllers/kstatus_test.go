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
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/directus-operator/directus-operator/api/v1alpha1"
	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/controllers/subscriptions"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

// outcome is what a subscription shows for a class of reason: its Ready,
// Reconciling and Stalled conditions ("" when absent), and what kstatus
// (Flux, kpt, kubectl apply --wait through cli-utils) and the Argo CD health
// check make of them. docs/status.md is generated from it.
type outcome struct {
	ready, reconciling, stalled metav1.ConditionStatus
	kstatus                     status.Status
	argo                        string
}

var outcomes = map[v1alpha1.ReasonClass]outcome{
	v1alpha1.ClassHealthy:     {ready: metav1.ConditionTrue, kstatus: status.CurrentStatus, argo: "Healthy"},
	v1alpha1.ClassProgressing: {ready: metav1.ConditionFalse, reconciling: metav1.ConditionTrue, kstatus: status.InProgressStatus, argo: "Progressing"},
	v1alpha1.ClassTransient:   {ready: metav1.ConditionFalse, reconciling: metav1.ConditionTrue, kstatus: status.InProgressStatus, argo: "Progressing"},
	v1alpha1.ClassTerminal:    {ready: metav1.ConditionFalse, stalled: metav1.ConditionTrue, kstatus: status.FailedStatus, argo: "Degraded"},
	v1alpha1.ClassSuspended:   {ready: metav1.ConditionTrue, kstatus: status.CurrentStatus, argo: "Suspended"},
}

// reasonCase is one reason on one condition, set the way the operator sets
// it: from a runner's report, by the reconciler before any connection
// (markStalled), or for spec.suspend.
type reasonCase struct {
	condition, reason string
	set               func(obj *v1alpha1.DirectusSubscription)
	// variant tells apart two cases of one reason on one condition.
	variant string
	// suspend is spec.suspend, which the operator answers with markSuspended.
	suspend bool
}

// report sets the status from a runner report that is healthy but for
// what change alters.
func report(change func(st *subscriptions.Status)) func(*v1alpha1.DirectusSubscription) {
	return func(obj *v1alpha1.DirectusSubscription) {
		st := subscriptions.Status{
			Generation: obj.Generation, Target: "ConfigMap/" + obj.Name,
			ConnState: v1alpha1.ConnectionStateConnected, ConnReason: v1alpha1.ReasonConnected, ConnMessage: "connected and authenticated",
			Subscribed: true, SubReason: v1alpha1.ReasonSubscribed, SubMessage: "subscribed to messages",
			Synced: metav1.ConditionTrue, SyncReason: v1alpha1.ReasonSynced, SyncMessage: "3 items written", Items: 3,
		}
		change(&st)
		controllers.ApplyRunnerStatus(obj, st, "")
	}
}

func connection(state v1alpha1.ConnectionState, reason string) func(*v1alpha1.DirectusSubscription) {
	return report(func(st *subscriptions.Status) {
		st.ConnState, st.ConnReason, st.ConnMessage = state, reason, "the connection says "+reason
		st.Subscribed, st.SubReason, st.SubMessage = false, v1alpha1.ReasonReconnecting, "waiting for the connection"
	})
}

func subscription(reason string) func(*v1alpha1.DirectusSubscription) {
	return report(func(st *subscriptions.Status) {
		st.Subscribed, st.SubReason, st.SubMessage = false, reason, "Directus says "+reason
	})
}

func target(s metav1.ConditionStatus, reason string) func(*v1alpha1.DirectusSubscription) {
	return report(func(st *subscriptions.Status) {
		st.Synced, st.SyncReason, st.SyncMessage = s, reason, "the target says "+reason
	})
}

func stalled(reason string) func(*v1alpha1.DirectusSubscription) {
	return func(obj *v1alpha1.DirectusSubscription) {
		controllers.MarkStalled(obj, reason, "the reconciler says "+reason)
	}
}

func suspended(obj *v1alpha1.DirectusSubscription) { controllers.MarkSuspended(obj, time.Now()) }

// reasonCases is every reason the operator sets, on every condition it sets
// it on. TestEveryReasonHasACase keeps it in step with v1alpha1.Reasons.
var reasonCases = func() []reasonCase {
	const (
		connected  = v1alpha1.ConditionConnected
		subscribed = v1alpha1.ConditionSubscribed
		synced     = v1alpha1.ConditionSynced
		ready      = v1alpha1.ConditionReady
	)
	healthy := report(func(*subscriptions.Status) {})
	cases := []reasonCase{ //nolint:prealloc // a table literal, extended below by loops over reason lists
		{condition: ready, reason: v1alpha1.ReasonReady, set: healthy},
		{condition: connected, reason: v1alpha1.ReasonConnected, set: healthy},
		{condition: subscribed, reason: v1alpha1.ReasonSubscribed, set: healthy},
		{condition: synced, reason: v1alpha1.ReasonSynced, set: healthy},
		{condition: synced, reason: v1alpha1.ReasonEventsRecorded, set: target(metav1.ConditionTrue, v1alpha1.ReasonEventsRecorded)},

		{condition: connected, reason: v1alpha1.ReasonConnecting, set: connection(v1alpha1.ConnectionStateConnecting, v1alpha1.ReasonConnecting)},
		{condition: subscribed, reason: v1alpha1.ReasonSubscribing, set: subscription(v1alpha1.ReasonSubscribing)},
		{condition: synced, reason: v1alpha1.ReasonSyncing, set: target(metav1.ConditionUnknown, v1alpha1.ReasonSyncing), variant: "first snapshot"},
		{condition: ready, reason: v1alpha1.ReasonNotReady, set: controllers.ReportWithoutConditions},

		{condition: subscribed, reason: v1alpha1.ReasonReconnecting, set: subscription(v1alpha1.ReasonReconnecting)},
		{condition: subscribed, reason: v1alpha1.ReasonTokenExpired, set: subscription(v1alpha1.ReasonTokenExpired)},
		{condition: subscribed, reason: v1alpha1.ReasonSubscribeFailed, set: subscription(v1alpha1.ReasonSubscribeFailed)},
		{condition: subscribed, reason: v1alpha1.ReasonForbidden, set: subscription(v1alpha1.ReasonForbidden)},
		{condition: subscribed, reason: v1alpha1.ReasonCollectionNotFound, set: subscription(v1alpha1.ReasonCollectionNotFound)},
		{condition: subscribed, reason: v1alpha1.ReasonInvalidQuery, set: subscription(v1alpha1.ReasonInvalidQuery)},
		{condition: synced, reason: v1alpha1.ReasonSyncing, set: target(metav1.ConditionFalse, v1alpha1.ReasonSyncing), variant: "after a gap"},
	}
	for _, r := range []string{
		v1alpha1.ReasonReconnecting, v1alpha1.ReasonServerUnreachable, v1alpha1.ReasonTokenExpired,
		v1alpha1.ReasonConnectionLimit, v1alpha1.ReasonRateLimited,
		v1alpha1.ReasonAuthFailed, v1alpha1.ReasonRealtimeDisabled, v1alpha1.ReasonTLSError,
	} {
		cases = append(cases, reasonCase{condition: connected, reason: r, set: connection(v1alpha1.ConnectionStateReconnecting, r)})
	}
	for _, r := range []string{
		v1alpha1.ReasonSnapshotFailed, v1alpha1.ReasonWriteFailed, v1alpha1.ReasonBadFrame,
		v1alpha1.ReasonForbidden, v1alpha1.ReasonInvalidQuery, v1alpha1.ReasonTooLarge, v1alpha1.ReasonResponseTooLarge,
		v1alpha1.ReasonConfigMapNotOwned, v1alpha1.ReasonSecretNotOwned, v1alpha1.ReasonMissingKey, v1alpha1.ReasonTemplateFailed,
	} {
		cases = append(cases, reasonCase{condition: synced, reason: r, set: target(metav1.ConditionFalse, r)})
	}
	for _, r := range []string{
		v1alpha1.ReasonSecretNotFound, v1alpha1.ReasonSecretKeyNotFound, v1alpha1.ReasonCANotFound, v1alpha1.ReasonInvalidSpec,
		v1alpha1.ReasonInlineConnectionDenied, v1alpha1.ReasonConnectionNotFound, v1alpha1.ReasonConnectionNotAllowed,
		v1alpha1.ReasonInvalidTemplate,
	} {
		for _, c := range []string{connected, subscribed, synced, ready} {
			cases = append(cases, reasonCase{condition: c, reason: r, set: stalled(r)})
		}
	}
	for _, c := range []string{connected, subscribed, ready} {
		cases = append(cases, reasonCase{condition: c, reason: v1alpha1.ReasonSuspended, set: suspended, suspend: true})
	}
	return cases
}()

func TestEveryReasonHasACase(t *testing.T) {
	g := NewWithT(t)
	want := map[string]bool{}
	for _, r := range v1alpha1.Reasons {
		for _, c := range r.Conditions {
			want[c+"/"+r.Reason] = true
		}
	}
	got := map[string]bool{}
	for _, c := range reasonCases {
		got[c.condition+"/"+c.reason] = true
	}
	g.Expect(got).To(Equal(want), "reasonCases and v1alpha1.Reasons must name the same reasons on the same conditions")
}

// TestKstatusAndArgoCDAgreeOnEveryReason is the table of docs/status.md:
// for each reason, on each condition that carries it, the object the
// operator writes goes through a real API server and comes back with the
// Ready, Reconciling and Stalled of its class; kstatus computes the class's
// result from it, and the Argo CD health check the class's health.
func TestKstatusAndArgoCDAgreeOnEveryReason(t *testing.T) {
	h := newHealthWorld(t)
	for _, tc := range reasonCases {
		class := v1alpha1.ClassOf(tc.reason)
		want := outcomes[class]
		t.Run(strings.TrimSpace(tc.condition+"="+tc.reason+" "+tc.variant), func(t *testing.T) {
			g := NewWithT(t)
			obj := h.object()
			obj.Spec.Suspend = tc.suspend
			u := h.roundTrip(g, obj, tc.set)

			obj = &v1alpha1.DirectusSubscription{}
			g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj)).To(Succeed())
			g.Expect(obj.Status.ObservedGeneration).To(Equal(obj.Generation), "observedGeneration")
			c := meta.FindStatusCondition(obj.Status.Conditions, tc.condition)
			g.Expect(c).NotTo(BeNil(), "condition %s", tc.condition)
			g.Expect(c.Reason).To(Equal(tc.reason), "the case sets the reason it names")
			g.Expect(conditionStatus(obj, v1alpha1.ConditionReady)).To(Equal(want.ready), "Ready of a %s reason", class)
			g.Expect(conditionStatus(obj, v1alpha1.ConditionReconciling)).To(Equal(want.reconciling), "Reconciling of a %s reason", class)
			g.Expect(conditionStatus(obj, v1alpha1.ConditionStalled)).To(Equal(want.stalled), "Stalled of a %s reason", class)

			res, err := status.Compute(u)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Status).To(Equal(want.kstatus), "kstatus: %s", res.Message)
			if want.kstatus == status.FailedStatus {
				g.Expect(res.Conditions).To(ContainElement(HaveField("Reason", tc.reason)), "a failed wait says why")
			}

			health, msg := h.argoHealth(g, u)
			g.Expect(health).To(Equal(want.argo), "Argo CD: %s", msg)
			g.Expect(msg).NotTo(BeEmpty(), "Argo CD shows a message")
		})
	}
}

// TestKstatusAndArgoCDBeforeTheOperatorCatchesUp covers the states that no
// reason names: an object the operator has not seen yet, and a spec change
// it has not run yet.
func TestKstatusAndArgoCDBeforeTheOperatorCatchesUp(t *testing.T) {
	h := newHealthWorld(t)
	cases := []struct {
		name    string
		prepare func(g Gomega) *unstructured.Unstructured
		kstatus status.Status
		argo    string
	}{
		{
			name: "just created: observedGeneration defaults to -1, so it is not taken as Current",
			prepare: func(g Gomega) *unstructured.Unstructured {
				return h.create(g, h.object())
			},
			kstatus: status.InProgressStatus, argo: "Progressing",
		},
		{
			name: "a Ready subscription whose spec changed is in progress until the operator runs it",
			prepare: func(g Gomega) *unstructured.Unstructured {
				u := h.roundTrip(g, h.object(), report(func(*subscriptions.Status) {}))
				g.Expect(unstructured.SetNestedField(u.Object, "articles", "spec", "collection")).To(Succeed())
				g.Expect(k8s.Update(context.Background(), u)).To(Succeed())
				return h.get(g, u)
			},
			kstatus: status.InProgressStatus, argo: "Progressing",
		},
		{
			name: "suspend asked for but not yet run: kstatus waits for the operator, Argo CD shows it at once as it does for Flux objects",
			prepare: func(g Gomega) *unstructured.Unstructured {
				u := h.roundTrip(g, h.object(), report(func(*subscriptions.Status) {}))
				g.Expect(unstructured.SetNestedField(u.Object, true, "spec", "suspend")).To(Succeed())
				g.Expect(k8s.Update(context.Background(), u)).To(Succeed())
				return h.get(g, u)
			},
			kstatus: status.InProgressStatus, argo: "Suspended",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			u := tc.prepare(g)
			res, err := status.Compute(u)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Status).To(Equal(tc.kstatus), "kstatus: %s", res.Message)
			health, msg := h.argoHealth(g, u)
			g.Expect(health).To(Equal(tc.argo), "Argo CD: %s", msg)
		})
	}
}

func TestTheItemsColumnShowsZero(t *testing.T) {
	h := newHealthWorld(t)
	g := NewWithT(t)
	fresh := h.create(g, h.object())
	empty := h.roundTrip(g, h.object(), report(func(st *subscriptions.Status) { st.Items = 0 }))
	for _, u := range []*unstructured.Unstructured{fresh, empty} {
		items, found, err := unstructured.NestedInt64(u.Object, "status", "items")
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(found).To(BeTrue(), "status.items of %s is there, so kubectl's ITEMS column shows 0, not blank", u.GetName())
		g.Expect(items).To(BeZero())
	}
}

func conditionStatus(obj *v1alpha1.DirectusSubscription, typ string) metav1.ConditionStatus {
	if c := meta.FindStatusCondition(obj.Status.Conditions, typ); c != nil {
		return c.Status
	}
	return ""
}

// healthGroup serves a copy of the DirectusSubscription CRD, schema and
// status subresource included, under another group: the operator the suite
// runs watches only the real one, so the statuses written here stay as
// written.
const healthGroup = "kstatus.test.directus-operator.io"

// healthWorld is a namespace of objects of the copied CRD, and the Argo CD
// health check.
type healthWorld struct {
	t     *testing.T
	ns    string
	n     int
	check string
}

func newHealthWorld(t *testing.T) *healthWorld {
	t.Helper()
	t.Parallel()
	g := NewWithT(t)
	ctx := context.Background()
	installHealthCRD(g)
	h := &healthWorld{t: t, ns: fmt.Sprintf("t%d", nsCounter.Add(1))}
	g.Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.ns}})).To(Succeed())
	check, err := os.ReadFile(filepath.Join(envtestutil.RepoRoot(), argoHealthCheck))
	g.Expect(err).NotTo(HaveOccurred())
	h.check = string(check)
	return h
}

// installHealthCRD creates the copy of the CRD once and waits until it
// serves.
func installHealthCRD(g Gomega) {
	ctx := context.Background()
	raw, err := os.ReadFile(filepath.Join(envtestutil.RepoRoot(), "config", "crd", "bases", "realtime.directus-operator.io_directussubscriptions.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	crd := &unstructured.Unstructured{}
	g.Expect(yaml.Unmarshal(raw, &crd.Object)).To(Succeed())
	crd.SetName("directussubscriptions." + healthGroup)
	g.Expect(unstructured.SetNestedField(crd.Object, healthGroup, "spec", "group")).To(Succeed())
	unstructured.RemoveNestedField(crd.Object, "spec", "names", "shortNames")
	unstructured.RemoveNestedField(crd.Object, "spec", "names", "categories")
	if err := k8s.Create(ctx, crd); !apierrors.IsAlreadyExists(err) {
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Eventually(func(g Gomega) {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(crd.GroupVersionKind())
		g.Expect(k8s.Get(ctx, client.ObjectKey{Name: crd.GetName()}, got)).To(Succeed())
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		established := false
		for _, c := range conds {
			m := c.(map[string]any)
			established = established || (m["type"] == "Established" && m["status"] == "True")
		}
		g.Expect(established).To(BeTrue(), "CRD established")
	}, timeout, 50*time.Millisecond).Should(Succeed())
}

// object is a valid subscription of the copied kind at generation 1.
func (h *healthWorld) object() *v1alpha1.DirectusSubscription {
	h.n++
	obj := &v1alpha1.DirectusSubscription{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("s%d", h.n), Namespace: h.ns, Generation: 1},
		Spec: v1alpha1.DirectusSubscriptionSpec{
			DirectusConnectionSpec: v1alpha1.DirectusConnectionSpec{
				URL:  "http://directus.cms.svc:8055",
				Auth: v1alpha1.DirectusAuth{Token: &v1alpha1.SecretKeySelector{Name: "directus", Key: "token"}},
			},
			Collection: "messages",
			Target:     v1alpha1.TargetSpec{ConfigMap: &v1alpha1.ConfigMapTarget{}},
		},
	}
	return obj
}

func (h *healthWorld) unstructured(g Gomega, obj *v1alpha1.DirectusSubscription) *unstructured.Unstructured {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	g.Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: healthGroup, Version: v1alpha1.GroupVersion.Version, Kind: "DirectusSubscription"})
	return u
}

// create stores obj (the API server drops its status) and reads it back.
func (h *healthWorld) create(g Gomega, obj *v1alpha1.DirectusSubscription) *unstructured.Unstructured {
	u := h.unstructured(g, obj)
	unstructured.RemoveNestedField(u.Object, "status")
	// The client learns of the copied kind on its first miss.
	g.Eventually(func() error { return k8s.Create(context.Background(), u) }, timeout, 50*time.Millisecond).Should(Succeed())
	return h.get(g, u)
}

// roundTrip creates a subscription, writes the status that set gives it
// through the status subresource, and reads it back as a GitOps tool would.
func (h *healthWorld) roundTrip(g Gomega, obj *v1alpha1.DirectusSubscription, set func(*v1alpha1.DirectusSubscription)) *unstructured.Unstructured {
	created := h.create(g, obj)
	obj = &v1alpha1.DirectusSubscription{}
	g.Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(created.Object, obj)).To(Succeed())
	set(obj)
	u := h.unstructured(g, obj)
	g.Expect(k8s.Status().Update(context.Background(), u)).To(Succeed())
	return h.get(g, u)
}

func (h *healthWorld) get(g Gomega, u *unstructured.Unstructured) *unstructured.Unstructured {
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(u.GroupVersionKind())
	g.Expect(k8s.Get(context.Background(), client.ObjectKeyFromObject(u), got)).To(Succeed())
	return got
}

// argoHealthCheck is the Argo CD health check, which docs/status.md shows.
const argoHealthCheck = "docs/argocd/health.lua"

// argoHealth runs the health check as Argo CD does: the object as the global
// obj, only the base, table and package libraries, a one-second budget, and
// the returned table's status and message.
func (h *healthWorld) argoHealth(g Gomega, u *unstructured.Unstructured) (health, message string) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		g.Expect(L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name))).To(Succeed())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	L.SetContext(ctx)
	L.SetGlobal("obj", toLua(L, u.Object))
	g.Expect(L.DoString(h.check)).To(Succeed())
	hs, ok := L.Get(-1).(*lua.LTable)
	g.Expect(ok).To(BeTrue(), "the health check returns a table")
	return hs.RawGetString("status").String(), hs.RawGetString("message").String()
}

// toLua converts a JSON value as Argo CD does: objects and arrays become
// tables (arrays 1-based), numbers become Lua numbers.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(L, e))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, e := range v {
			t.Append(toLua(L, e))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case nil:
		return lua.LNil
	default:
		panic(fmt.Sprintf("no Lua value for %T", v))
	}
}

// TestEveryReasonTheOperatorDeclaresIsClassed catches a condition reason
// declared outside api/v1alpha1 (as the runner's SubscribeFailed was): it
// must be in v1alpha1.Reasons, or a GitOps tool would see it as transient
// whatever it means. Blocks documented as Event reasons are Kubernetes Event
// reasons, not condition reasons.
func TestEveryReasonTheOperatorDeclaresIsClassed(t *testing.T) {
	g := NewWithT(t)
	classed := map[string]bool{}
	for _, r := range v1alpha1.Reasons {
		classed[r.Reason] = true
	}
	root := filepath.Join(envtestutil.RepoRoot(), "controllers")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST || strings.Contains(gen.Doc.Text(), "Event reasons") {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if !strings.HasPrefix(name.Name, "Reason") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						value, _ := strconv.Unquote(lit.Value)
						g.Expect(classed).To(HaveKey(value), "%s (%s) is not in v1alpha1.Reasons", name.Name, path)
					}
				}
			}
		}
		return nil
	})
	g.Expect(err).NotTo(HaveOccurred())
}
