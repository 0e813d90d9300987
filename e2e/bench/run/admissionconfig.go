package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/e2e/bench"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
)

// admissionConfig installs the admission configuration of each end-to-end scenario and waits
// until the API server applies it: deploy/base's webhook configurations pointed at the running
// `metrics-proxy serve`, or the MutatingAdmissionPolicy and its bindings.
type admissionConfig struct {
	cp    *controlPlane
	hooks *harness.Webhooks
	// policy holds the MutatingAdmissionPolicy and its bindings, validating the
	// ValidatingAdmissionPolicy and its bindings.
	policy, validating []client.Object
}

// newAdmissionConfig loads the configurations; the webhooks point at srv and trust cp's CA.
func newAdmissionConfig(cp *controlPlane, srv *server) (*admissionConfig, error) {
	hooks, err := harness.LoadWebhooks(srv.hostPort(), harness.WebhookManifests()...)
	if err != nil {
		return nil, err
	}
	for _, m := range hooks.Mutating {
		for i := range m.Webhooks {
			m.Webhooks[i].ClientConfig.CABundle = cp.caData
		}
	}
	for _, v := range hooks.Validating {
		for i := range v.Webhooks {
			v.Webhooks[i].ClientConfig.CABundle = cp.caData
		}
	}
	a := &admissionConfig{cp: cp, hooks: hooks}
	if a.policy, err = readPolicies(bench.MutatingAdmissionPolicyYAML); err != nil {
		return nil, fmt.Errorf("mutating admission policy: %w", err)
	}
	if a.validating, err = readPolicies(bench.ValidatingAdmissionPolicyYAML); err != nil {
		return nil, fmt.Errorf("validating admission policy: %w", err)
	}
	return a, nil
}

// readPolicies decodes the admission policies and bindings of a multi-document YAML.
func readPolicies(data []byte) ([]client.Object, error) {
	docs, err := manifest.Read(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out []client.Object
	for _, d := range docs {
		var obj client.Object
		switch d.Kind {
		case "MutatingAdmissionPolicy":
			obj = &admissionregistrationv1.MutatingAdmissionPolicy{}
		case "MutatingAdmissionPolicyBinding":
			obj = &admissionregistrationv1.MutatingAdmissionPolicyBinding{}
		case "ValidatingAdmissionPolicy":
			obj = &admissionregistrationv1.ValidatingAdmissionPolicy{}
		case "ValidatingAdmissionPolicyBinding":
			obj = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
		default:
			return nil, fmt.Errorf("document %d: unexpected kind %q", d.Index, d.Kind)
		}
		if err := yaml.UnmarshalStrict(d.YAML, obj); err != nil {
			return nil, fmt.Errorf("document %d: %w", d.Index, err)
		}
		out = append(out, obj)
	}
	return out, nil
}

// objects returns the configuration objects of scenario key, fresh copies to create.
func (a *admissionConfig) objects(key string) []client.Object {
	var out []client.Object
	switch key {
	case bench.ScenarioWebhook, bench.ScenarioValidating:
		for _, m := range a.hooks.Mutating {
			out = append(out, m.DeepCopy())
		}
		if key == bench.ScenarioValidating {
			for _, v := range a.hooks.Validating {
				out = append(out, v.DeepCopy())
			}
		}
	case bench.ScenarioPolicy, bench.ScenarioNative:
		for _, o := range a.policy {
			out = append(out, o.DeepCopyObject().(client.Object))
		}
		if key == bench.ScenarioNative {
			for _, o := range a.validating {
				out = append(out, o.DeepCopyObject().(client.Object))
			}
		}
	}
	return out
}

// switchTo removes every configuration, waits until no admission mutates a stub any more, then
// installs scenario key's configuration and waits until it is in force (probing with dry runs
// in namespace).
func (a *admissionConfig) switchTo(ctx context.Context, key, namespace string) error {
	for _, k := range []string{bench.ScenarioValidating, bench.ScenarioNative} {
		for _, obj := range a.objects(k) {
			if err := a.cp.client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("delete %s: %w", obj.GetName(), err)
			}
		}
	}
	if err := a.waitFor(ctx, namespace, "no admission", func(ds *appsv1.DaemonSet, err error) bool { return apierrors.IsInvalid(err) }); err != nil {
		return err
	}
	for _, obj := range a.objects(key) {
		if err := a.cp.client.Create(ctx, obj); err != nil {
			return fmt.Errorf("create %s: %w", obj.GetName(), err)
		}
	}
	switch key {
	case bench.ScenarioWebhook, bench.ScenarioValidating:
		if err := a.waitFor(ctx, namespace, "the webhook", injectedBy(serveVersion)); err != nil {
			return err
		}
	case bench.ScenarioPolicy, bench.ScenarioNative:
		if err := a.waitFor(ctx, namespace, "the policy", injectedBy(bench.MutatingAdmissionPolicyVersion)); err != nil {
			return err
		}
	}
	if key == bench.ScenarioValidating || key == bench.ScenarioNative {
		// A proxy with an image the policy does not allow: denied once the validating webhook is in force.
		return a.waitFor(ctx, namespace, "the validating side", func(ds *appsv1.DaemonSet, err error) bool {
			return apierrors.IsForbidden(err) || apierrors.IsInvalid(err)
		},
			func(ds *appsv1.DaemonSet) {
				ds.Annotations = map[string]string{names.ImageAnnotation: "registry.example/other/haproxy:1"}
			})
	}
	return nil
}

// injectedBy reports whether a dry-run create came back injected by the given injector version.
func injectedBy(version string) func(*appsv1.DaemonSet, error) bool {
	return func(ds *appsv1.DaemonSet, err error) bool {
		if err != nil {
			return false
		}
		var s inject.Status
		return json.Unmarshal([]byte(ds.Annotations[names.StatusAnnotation]), &s) == nil && s.Version == version
	}
}

// waitFor dry-runs the create of a stub (changed by mods) every 50 ms until done says the
// answer shows the expected admission configuration, for at most 30 s.
func (a *admissionConfig) waitFor(ctx context.Context, namespace, what string, done func(*appsv1.DaemonSet, error) bool, mods ...func(*appsv1.DaemonSet)) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var last error
	for {
		ds := stub("probe", namespace)
		for _, m := range mods {
			m(ds)
		}
		err := a.cp.client.Create(ctx, ds, client.DryRunAll)
		if done(ds, err) {
			return nil
		}
		if ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				if last == nil {
					last = errors.New("admitted, but not as expected")
				}
				return fmt.Errorf("%s not in force after 30 s (last answer: %w)", what, last)
			}
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
