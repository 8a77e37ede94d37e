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
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/directus-operator/directus-operator/controllers"
	"github.com/directus-operator/directus-operator/controllers/hub"
	// +kubebuilder:scaffold:imports
)

// OperatorOptions are the operator's flags.
type OperatorOptions struct {
	MetricsAddr             string
	MetricsSecure           bool
	MetricsCertPath         string
	ProbeAddr               string
	PprofAddr               string
	LeaderElect             bool
	LeaderElectionNamespace string
	LeaderElectionID        string
	LeaseDuration           time.Duration
	RenewDeadline           time.Duration
	RetryPeriod             time.Duration
	WatchNamespaces         string
	WatchLabelSelector      string
	// shard is WatchLabelSelector parsed by validate; nil: every object.
	shard                   labels.Selector
	LogLevel                string
	LogFormat               string
	MinWriteInterval        time.Duration
	MaxConcurrentReconciles int
	KubeAPIQPS              float64
	KubeAPIBurst            int
	MaxSubsPerConnection    int
	MaxReadsPerServer       int
	MaxWriteBytesPerSecond  int
	InlineConnections       string
}

func (o *OperatorOptions) bind(fs *pflag.FlagSet) {
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8443", "address of the Prometheus metrics endpoint; 0 turns it off")
	fs.BoolVar(&o.MetricsSecure, "metrics-secure", true,
		"serve metrics over https, only to a caller whose bearer token the API server authenticates (TokenReview) "+
			"and allows to get /metrics (SubjectAccessReview); false serves plain http to anyone who can reach the port")
	fs.StringVar(&o.MetricsCertPath, "metrics-cert-path", "",
		"folder holding tls.crt and tls.key for the metrics endpoint (e.g. a mounted TLS Secret); empty: a self-signed certificate made at start")
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", "0",
		"address of Go's /debug/pprof profiles, for diagnosing memory and CPU; 0 (the default) turns them off. "+
			"Unauthenticated: bind it to loopback (127.0.0.1:6060) and reach it with kubectl port-forward")
	fs.BoolVar(&o.LeaderElect, "leader-elect", true, "elect a leader so that only one replica holds the Directus connections")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "",
		"namespace of the leader election Lease; empty: $POD_NAMESPACE, then the namespace the pod runs in")
	fs.StringVar(&o.LeaderElectionID, "leader-election-id", defaultLeaderElectionID,
		"name of the leader election Lease; each shard (--watch-label-selector) needs its own")
	fs.DurationVar(&o.LeaseDuration, "leader-election-lease-duration", 15*time.Second,
		"how long a standby waits, after the leader's last renewal, before it takes the Lease of a leader that vanished without releasing it")
	fs.DurationVar(&o.RenewDeadline, "leader-election-renew-deadline", 10*time.Second,
		"how long the leader keeps trying to renew the Lease before it gives up leading (and stops writing)")
	fs.DurationVar(&o.RetryPeriod, "leader-election-retry-period", time.Second,
		"how often the leader renews the Lease and a standby tries to take it; a crashed leader is replaced "+
			"within about the lease duration plus twice this")
	fs.StringVar(&o.WatchNamespaces, "watch-namespaces", "", "comma-separated namespaces to watch; empty watches all")
	fs.StringVar(&o.WatchLabelSelector, "watch-label-selector", "",
		"label selector of the DirectusSubscriptions (and connection objects) this operator reconciles, for sharding, "+
			"e.g. sharding.fluxcd.io/key=shard1, or !sharding.fluxcd.io/key for the objects of no shard; empty: all")
	fs.StringVar(&o.LogLevel, "log-level", "info", "log level: debug, info, error, or a number (higher is more verbose)")
	fs.StringVar(&o.LogFormat, "log-format", "json", "log format: json or text")
	fs.DurationVar(&o.MinWriteInterval, "mirror-min-write-interval", 0,
		"least time between two writes of one ConfigMap; 0 (the default) writes as soon as the previous write is done, "+
			"merging the changes that arrived during it")
	fs.IntVar(&o.MaxWriteBytesPerSecond, "mirror-max-write-bytes-per-second", 10<<20,
		"bytes per second of writes of one ConfigMap, each write counting the whole object (what the API server and etcd handle); "+
			"a large mirror under a stream of changes is written less often, with the changes merged; 0 means no bound")
	fs.IntVar(&o.MaxConcurrentReconciles, "max-concurrent-reconciles", 4, "reconciles run in parallel")
	fs.Float64Var(&o.KubeAPIQPS, "kube-api-qps", 100,
		"queries per second to the Kubernetes API, for status patches and reads; ConfigMap writes have a budget of the same size, Events a quarter")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", 300, "burst of queries to the Kubernetes API above --kube-api-qps")
	fs.IntVar(&o.MaxSubsPerConnection, "max-subscriptions-per-connection", 100,
		"subscriptions one Directus socket carries; subscriptions with the same Directus identity share sockets, and more open another")
	fs.IntVar(&o.MaxReadsPerServer, "max-concurrent-reads-per-server", 4,
		"logins, subscribes and full reads that run at once against one Directus server "+
			"(bounds the herd after a restart; logins go first, then reads, then subscribes)")
	fs.StringVar(&o.InlineConnections, "inline-connections", string(controllers.InlineAllow),
		"Allow: a DirectusSubscription may set its own url and auth; Deny: every subscription must name a DirectusConnection "+
			"or ClusterDirectusConnection in spec.connectionRef, so only their authors decide which servers the operator dials")
}

// validate refuses flag values that cannot mean what they say.
func (o *OperatorOptions) validate() error {
	if err := o.validateMetrics(); err != nil {
		return err
	}
	switch {
	case o.MinWriteInterval < 0:
		return fmt.Errorf("--mirror-min-write-interval must not be negative")
	case o.MaxWriteBytesPerSecond < 0:
		return fmt.Errorf("--mirror-max-write-bytes-per-second must not be negative (0 means no bound)")
	case o.MaxConcurrentReconciles < 1:
		return fmt.Errorf("--max-concurrent-reconciles must be at least 1")
	case o.KubeAPIQPS <= 0:
		return fmt.Errorf("--kube-api-qps must be positive")
	case o.KubeAPIBurst < 1:
		return fmt.Errorf("--kube-api-burst must be at least 1")
	case o.MaxSubsPerConnection < 1:
		return fmt.Errorf("--max-subscriptions-per-connection must be at least 1")
	case o.MaxReadsPerServer < 1:
		return fmt.Errorf("--max-concurrent-reads-per-server must be at least 1")
	case o.InlineConnections != string(controllers.InlineAllow) && o.InlineConnections != string(controllers.InlineDeny):
		return fmt.Errorf("--inline-connections must be Allow or Deny, not %q", o.InlineConnections)
	}
	if o.WatchLabelSelector != "" {
		sel, err := labels.Parse(o.WatchLabelSelector)
		if err != nil {
			return fmt.Errorf("--watch-label-selector %q: %w", o.WatchLabelSelector, err)
		}
		o.shard = sel
	}
	return o.validateLeaderElection()
}

// validateLeaderElection refuses lease timings client-go would refuse at
// start, with the flags' names.
func (o *OperatorOptions) validateLeaderElection() error {
	switch {
	case o.LeaderElectionID == "":
		return fmt.Errorf("--leader-election-id must not be empty")
	case o.RetryPeriod <= 0:
		return fmt.Errorf("--leader-election-retry-period must be positive")
	case float64(o.RenewDeadline) <= leaderelection.JitterFactor*float64(o.RetryPeriod):
		return fmt.Errorf("--leader-election-renew-deadline (%s) must be more than %.1f × --leader-election-retry-period (%s)",
			o.RenewDeadline, leaderelection.JitterFactor, o.RetryPeriod)
	case o.LeaseDuration <= o.RenewDeadline:
		return fmt.Errorf("--leader-election-lease-duration (%s) must be more than --leader-election-renew-deadline (%s)",
			o.LeaseDuration, o.RenewDeadline)
	}
	return nil
}

// leaseNamespace is the namespace of the leader election Lease as the flag
// and $POD_NAMESPACE give it; empty leaves controller-runtime to take the
// namespace the pod runs in.
func (o *OperatorOptions) leaseNamespace() string {
	return cmp.Or(o.LeaderElectionNamespace, os.Getenv("POD_NAMESPACE"))
}

// defaultLeaderElectionID is the Lease of an operator that is not sharded
// (and of the chart's shard of unlabelled objects).
const defaultLeaderElectionID = "directus-operator.realtime.directus-operator.io"

// validateMetrics refuses a metrics address that is not host:port, and
// a certificate for an endpoint that does not use TLS.
func (o *OperatorOptions) validateMetrics() error {
	if o.MetricsAddr == "0" {
		return nil
	}
	if _, port, err := net.SplitHostPort(o.MetricsAddr); err != nil || port == "" {
		return fmt.Errorf("--metrics-bind-address %q: want host:port, :port, or 0 to turn metrics off", o.MetricsAddr)
	}
	if o.MetricsCertPath == "" {
		return nil
	}
	if !o.MetricsSecure {
		return fmt.Errorf("--metrics-cert-path is set but --metrics-secure=false serves plain http; drop one of them")
	}
	// controller-runtime falls back to a self-signed certificate when the
	// files are missing: a mistyped mount would go unnoticed.
	for _, name := range []string{metricsCertName, metricsKeyName} {
		if _, err := os.Stat(filepath.Join(o.MetricsCertPath, name)); err != nil {
			return fmt.Errorf("--metrics-cert-path: %w", err)
		}
	}
	return nil
}

// The file names in --metrics-cert-path, those of a kubernetes.io/tls Secret.
const (
	metricsCertName = "tls.crt"
	metricsKeyName  = "tls.key"
)

func newOperatorCommand(*cli) *cobra.Command {
	var o OperatorOptions
	cmd := &cobra.Command{
		Use:   "operator [flags]",
		Short: "Run the controller manager (DirectusSubscription → ConfigMap, Secret or Events)",
		Long: "Runs the controllers of DirectusSubscription, DirectusConnection and ClusterDirectusConnection.\n" +
			"It talks to the cluster of $KUBECONFIG, or the one it runs in. docs/flags.md lists the flags.",
		GroupID: groupRun,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runOperator(cmd.Context(), o) },
	}
	o.bind(cmd.Flags())
	return cmd
}

func runOperator(ctx context.Context, o OperatorOptions) error {
	if err := o.validate(); err != nil {
		return usagef("%v", err)
	}
	logger, err := newLogger(o.LogLevel, o.LogFormat)
	if err != nil {
		return usagef("%v", err)
	}
	ctrl.SetLogger(logger)
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("kubernetes config: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(o.KubeAPIQPS), o.KubeAPIBurst
	if err := operate(ctx, cfg, o); err != nil {
		logger.Error(err, "Operator stopped")
		return err
	}
	return nil
}

// maxLogVerbosity caps --log-level: from 6 on, client-go logs HTTP
// requests, and from 8 their bodies, which for the Secrets the operator
// reads are credentials.
const maxLogVerbosity = 5

// newLogger builds the zap logger from --log-level and --log-format.
func newLogger(level, format string) (logr.Logger, error) {
	opts := zap.Options{}
	switch level {
	case "debug":
		opts.Level = zapcore.DebugLevel
	case "info", "":
		opts.Level = zapcore.InfoLevel
	case "error":
		opts.Level = zapcore.ErrorLevel
	default:
		var n int
		if _, err := fmt.Sscanf(level, "%d", &n); err != nil || n < 0 {
			return logr.Logger{}, fmt.Errorf("--log-level %q: want debug, info, error or a number", level)
		}
		if n > maxLogVerbosity {
			return logr.Logger{}, fmt.Errorf("--log-level %d: the highest is %d; above it client-go logs request and response bodies, Secrets included",
				n, maxLogVerbosity)
		}
		opts.Level = zapcore.Level(-n)
	}
	switch format {
	case "json", "":
	case "text":
		opts.Development = false
		opts.Encoder = zapcore.NewConsoleEncoder(zapcore.EncoderConfig{
			TimeKey: "ts", LevelKey: "level", NameKey: "logger", MessageKey: "msg",
			EncodeTime: zapcore.ISO8601TimeEncoder, EncodeLevel: zapcore.CapitalLevelEncoder, EncodeDuration: zapcore.StringDurationEncoder,
		})
	default:
		return logr.Logger{}, fmt.Errorf("--log-format %q: want json or text", format)
	}
	return zap.New(zap.UseFlagOptions(&opts)), nil
}

// managerOptions are the manager settings of the operator.
func managerOptions(o OperatorOptions) ctrl.Options {
	var namespaces []string
	for ns := range strings.SplitSeq(o.WatchNamespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			namespaces = append(namespaces, ns)
		}
	}
	return ctrl.Options{
		Scheme:                  controllers.Scheme(),
		Metrics:                 metricsOptions(o),
		HealthProbeBindAddress:  o.ProbeAddr,
		PprofBindAddress:        o.PprofAddr,
		LeaderElection:          o.LeaderElect,
		LeaderElectionID:        o.LeaderElectionID,
		LeaderElectionNamespace: o.leaseNamespace(),
		LeaseDuration:           &o.LeaseDuration,
		RenewDeadline:           &o.RenewDeadline,
		RetryPeriod:             &o.RetryPeriod,
		// Connections close cleanly before another replica takes over.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         controllers.CacheOptions(namespaces, o.shard),
		Client:                        controllers.ClientOptions(),
	}
}

// metricsOptions serve /metrics as kubebuilder scaffolds it: over https,
// behind a filter that authenticates the caller's bearer token with a
// TokenReview and authorises "get /metrics" with a SubjectAccessReview (both
// cached; metricsAuth, which does what controller-runtime's filter does
// without linking k8s.io/apiserver), so the endpoint
// tells nothing to whoever merely reaches the port. --metrics-secure=false
// is the explicit way back to plain http.
func metricsOptions(o OperatorOptions) metricsserver.Options {
	if !o.MetricsSecure {
		return metricsserver.Options{BindAddress: o.MetricsAddr}
	}
	return metricsserver.Options{
		BindAddress:    o.MetricsAddr,
		SecureServing:  true,
		FilterProvider: metricsAuth,
		CertDir:        o.MetricsCertPath,
		CertName:       metricsCertName,
		KeyName:        metricsKeyName,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			c.MinVersion = tls.VersionTLS12
			// HTTP/2 off, as kubebuilder does: its stream handling has had
			// denial-of-service flaws (HTTP/2 Rapid Reset, CVE-2023-44487),
			// and a scrape gains nothing from it.
			c.NextProtos = []string{"http/1.1"}
		}},
	}
}

func operate(ctx context.Context, cfg *rest.Config, o OperatorOptions) error {
	mgr, err := ctrl.NewManager(cfg, managerOptions(o))
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	if _, err := controllers.Setup(ctx, mgr, controllers.Options{
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
		InlineConnections:       controllers.InlineConnections(o.InlineConnections),
		Shard:                   o.shard,
		Hub: hub.Options{
			MinWriteInterval: o.MinWriteInterval, MaxSubscriptionsPerConnection: o.MaxSubsPerConnection,
			MaxConcurrentReadsPerServer: o.MaxReadsPerServer, MaxWriteBytesPerSecond: o.MaxWriteBytesPerSecond,
		},
	}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	ctrl.Log.Info("Starting directus-operator", "version", version, "commit", commit, "watchNamespaces", o.WatchNamespaces,
		"metricsBindAddress", o.MetricsAddr, "metricsSecure", o.MetricsSecure, "inlineConnections", o.InlineConnections)
	releasePredecessorsLease(ctx, cfg, o, ctrl.Log.WithName("leader-election"))
	return mgr.Start(ctx)
}
