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
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes scripts can rely on.
const (
	// exitOK: the command did what it was asked.
	exitOK = 0
	// exitError: it failed (the API server or Directus refused or could not
	// be reached, an object is not found).
	exitError = 1
	// exitUsage: a bad command, flag, argument or environment variable;
	// nothing was done.
	exitUsage = 2
	// exitTimeout: wait or resync gave up at --timeout before the status
	// showed what it waited for.
	exitTimeout = 3
)

// usageError is a bad command, flag, argument, environment variable or
// credential: the command exits with exitUsage before doing anything.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errTimeout is what wait and resync return when --timeout passes first.
var errTimeout = errors.New("timed out")

// exitCodeOf maps what a command returned to its exit code.
func exitCodeOf(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errTimeout):
		return exitTimeout
	}
	if _, ok := errors.AsType[*usageError](err); ok {
		return exitUsage
	}
	return exitError
}

// cli is what the commands read and write: the process's environment and
// streams, or a test's.
type cli struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	// sidecar lets tests learn the sidecar's probe address and replace its
	// Kubernetes client.
	sidecar sidecarHooks
}

// pluginName is the name kubectl finds the binary by on $PATH: invoked
// under it, the binary shows itself as "kubectl directus".
const pluginName = "kubectl-directus"

// execute runs the command line args (without the program name) and
// returns the exit code; name is the program's base name. Errors go to
// stderr, as "<command>: <message>".
func execute(ctx context.Context, name string, args []string, c *cli) int {
	root := newRootCommand(name, c)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		_, _ = fmt.Fprintf(c.stderr, "%s: %v\n", cmd.CommandPath(), err)
		if exitCodeOf(err) == exitUsage {
			_, _ = fmt.Fprintf(c.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return exitCodeOf(err)
}

// versionString is what version and --version print.
func versionString() string { return fmt.Sprintf("%s (commit %s)", version, commit) }

func newRootCommand(name string, c *cli) *cobra.Command {
	display := "directus-operator"
	if name == pluginName {
		display = "kubectl directus"
	}
	root := &cobra.Command{
		Use:   display,
		Short: "The Directus realtime operator, its sidecar, and a CLI for DirectusSubscriptions",
		Long: `directus-operator mirrors Directus realtime subscriptions into ConfigMaps, Secrets and Events.

One binary: the operator, the sidecar, commands against Directus (tail, send) and commands
against the cluster's DirectusSubscriptions (get, status, resync, suspend, resume, wait), which
use your kubeconfig and namespace like kubectl. Installed as kubectl-directus on $PATH, it is the
kubectl plugin "kubectl directus".

Exit codes: 0 done, 1 failed, 2 bad usage (nothing was done), 3 wait, resync, suspend or resume timed out.`,
		Version:       versionString(),
		Args:          unknownCommand,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, _ = fmt.Fprint(c.stderr, cmd.UsageString())
			return usagef("a command is required")
		},
		SuggestionsMinimumDistance: 2,
		Annotations:                map[string]string{cobra.CommandDisplayNameAnnotation: display},
	}
	root.SetVersionTemplate("{{.DisplayName}} {{.Version}}\n")
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	root.AddGroup(&cobra.Group{ID: groupCluster, Title: "DirectusSubscriptions in the cluster:"},
		&cobra.Group{ID: groupDirectus, Title: "Directus:"}, &cobra.Group{ID: groupRun, Title: "Run:"})
	root.AddCommand(
		newGetCommand(c), newStatusCommand(c), newResyncCommand(c), newSuspendCommand(c, true), newSuspendCommand(c, false), newWaitCommand(c),
		newTailCommand(c), newSendCommand(c),
		newOperatorCommand(c), newSidecarCommand(c),
		&cobra.Command{
			Use: "version", Short: "Print the version and the commit", Args: noArgs,
			Run: func(cmd *cobra.Command, _ []string) { _, _ = fmt.Fprintln(cmd.OutOrStdout(), versionString()) },
		},
	)
	completionNeedsAShell(root)
	return root
}

// completionNeedsAShell makes completion without a shell it knows a usage
// error (cobra prints its help and exits 0).
func completionNeedsAShell(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, cmd := range root.Commands() {
		if cmd.Name() != "completion" {
			continue
		}
		cmd.Args = func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown shell %q: want bash, zsh, fish or powershell", args[0])
			}
			return nil
		}
		cmd.RunE = func(cmd *cobra.Command, _ []string) error {
			_, _ = fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
			return usagef("name a shell: bash, zsh, fish or powershell")
		}
	}
}

// Command groups of the help.
const (
	groupCluster  = "cluster"
	groupDirectus = "directus"
	groupRun      = "run"
)

// unknownCommand refuses an argument of the root command: a misspelt
// command, with suggestions.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usagef("%s", msg)
}

// noArgs refuses positional arguments.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments: %s", strings.Join(args, " "))
	}
	return nil
}

// oneName takes exactly one argument, the name of a DirectusSubscription.
func oneName(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("want one DirectusSubscription name, got %d arguments", len(args))
	}
	return nil
}

// environmentFlags makes a command whose flags read DIRECTUS_<NAME> when
// not given: it shows the variable in each flag's help, and fills the flags
// before the command runs.
func environmentFlags(cmd *cobra.Command, c *cli) {
	withEnvNames(cmd.Flags())
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error { return fromEnvironment(cmd.Flags(), c.getenv) }
}
