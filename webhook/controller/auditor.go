package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// PolicySource hands the auditor the policy in force (the server's policy file, reloaded).
type PolicySource interface {
	// Policy returns the current policy; never nil.
	Policy() *policy.Policy
}

// Event reasons of the auditor besides the findings' reasons (a finding's Event has its Reason).
const (
	// EventFindingsResolved (Normal): a DaemonSet that had findings has none any more.
	EventFindingsResolved = "FindingsResolved"
	// EventReinjected (Normal): --reinject=stale re-applied a stale DaemonSet through the API server.
	EventReinjected = "Reinjected"
	// EventReinjectFailed (Warning): that re-apply was refused; the finding stays.
	EventReinjectFailed = "ReinjectFailed"
)

// AuditStatus is the value of the metrics-proxy.io/audit annotation, as JSON.
type AuditStatus struct {
	// Version is the version of the injector whose audit wrote it.
	Version string `json:"version"`
	// Findings are the reasons and messages of the findings, in reason order.
	Findings []StatusFinding `json:"findings"`
}

// StatusFinding is one finding in AuditStatus.
type StatusFinding struct {
	Reason  Reason `json:"reason"`
	Message string `json:"message"`
}

// Auditor runs Scan at start and every Interval, on the leader only (a manager.Runnable that
// does not opt out of leader election), and reports what it finds. It writes only when a
// finding appears or goes: the status annotation (through the status subresource: no
// admission, no rollout), an Event, and with Reinject a re-apply of the stale DaemonSet.
type Auditor struct {
	// Reader reads Namespaces, DaemonSets and ConfigMaps for Scan.
	Reader client.Reader
	// Client writes the status annotation and re-applies stale DaemonSets.
	Client client.Client
	// Events records findings on their objects.
	Events recorder.EventRecorder
	// Policies gives today's policy; Inject is today's injection.
	Policies PolicySource
	Inject   inject.Config
	// Interval is the time between two audits.
	Interval time.Duration
	// Reinject re-applies stale proxies when ReinjectStale.
	Reinject ReinjectMode

	// reported holds the message last reported per ConfigMap finding (no annotation to keep it).
	reported map[string]string
}

// Start implements manager.Runnable: audit now, then every Interval, and soon after the policy
// changes (a reloaded policy file), until ctx ends. An audit that fails is logged and retried at
// the next tick.
func (a *Auditor) Start(ctx context.Context) error {
	log := logf.FromContext(ctx).WithName("audit")
	ctx = logf.IntoContext(ctx, log)
	var audited *policy.Policy
	var next time.Time
	for {
		if p := a.Policies.Policy(); p != audited || !time.Now().Before(next) {
			audited = p
			next = time.Now().Add(a.Interval)
			n, err := a.Once(ctx)
			if err != nil && ctx.Err() == nil {
				log.Error(err, "audit")
			}
			if n > 0 {
				next = time.Now().Add(min(a.Interval, reinjectRecheck)) // see the re-injected proxies' findings go soon
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(min(a.Interval, policyPoll)):
		}
	}
}

const (
	// reinjectRecheck is how soon the audit runs again after re-injecting.
	reinjectRecheck = 5 * time.Second
	// policyPoll is how often the auditor looks for a new policy.
	policyPoll = 5 * time.Second
)

// Once audits once and reports; it returns how many DaemonSets it re-applied.
func (a *Auditor) Once(ctx context.Context) (int, error) {
	rep, err := Scan(ctx, a.Reader, a.Policies.Policy(), a.Inject)
	if err != nil {
		return 0, err
	}
	setFindingsMetric(rep.Findings)
	byObject := map[string][]Finding{}
	for _, f := range rep.Findings {
		byObject[f.Key()] = append(byObject[f.Key()], f)
	}
	var errs []error
	reinjected := 0
	for key, ds := range rep.DaemonSets {
		fs := byObject[KindDaemonSet+" "+key]
		if err := a.publish(ctx, ds, fs); err != nil {
			errs = append(errs, err)
		}
		if a.Reinject == ReinjectStale && rep.Selected[key] && stale(fs) && ds.DeletionTimestamp.IsZero() { // the webhook leaves one being deleted
			if a.reinject(ctx, ds) {
				reinjected++
			}
		}
	}
	a.reportConfigMaps(rep)
	switch len(errs) {
	case 0:
		return reinjected, nil
	case 1:
		return reinjected, fmt.Errorf("publish audit: %w", errs[0])
	default:
		return reinjected, fmt.Errorf("publish audit: %w (and %d more)", errs[0], len(errs)-1)
	}
}

// publish writes ds's audit annotation and Events when its findings changed.
func (a *Auditor) publish(ctx context.Context, ds *appsv1.DaemonSet, fs []Finding) error {
	var prev AuditStatus
	old, had := ds.Annotations[names.AuditAnnotation]
	if had {
		_ = json.Unmarshal([]byte(old), &prev) // not ours: replaced
	}
	now := AuditStatus{Version: a.Inject.Version}
	for _, f := range fs {
		now.Findings = append(now.Findings, StatusFinding{Reason: f.Reason, Message: f.Message})
	}
	var value any // nil: remove the annotation
	if len(fs) > 0 {
		data, err := json.Marshal(now)
		if err != nil {
			return fmt.Errorf("encode audit status: %w", err)
		}
		if had && string(data) == old {
			return nil
		}
		value = string(data)
	} else if !had {
		return nil
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{names.AuditAnnotation: value}}})
	if err != nil {
		return fmt.Errorf("encode audit patch: %w", err)
	}
	writes.WithLabelValues("audit").Inc()
	if err := a.Client.Status().Patch(ctx, ds, client.RawPatch(types.MergePatchType, body)); apierrors.IsNotFound(err) {
		return nil // deleted since the scan
	} else if err != nil {
		return fmt.Errorf("annotate DaemonSet %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	for _, f := range now.Findings {
		if !slices.Contains(prev.Findings, f) {
			a.Events.Eventf(ds, nil, corev1.EventTypeWarning, string(f.Reason), "Audit", "%s", f.Message)
		}
	}
	if len(now.Findings) == 0 {
		a.Events.Eventf(ds, nil, corev1.EventTypeNormal, EventFindingsResolved, "Audit", "the audit finds nothing any more")
	}
	return nil
}

// reportConfigMaps records an Event for every ConfigMap finding this process has not reported yet.
func (a *Auditor) reportConfigMaps(rep *Report) {
	seen := map[string]string{}
	for _, f := range rep.Findings {
		cm := rep.ConfigMaps[f.Namespace+"/"+f.Name]
		if f.Kind != KindConfigMap || cm == nil {
			continue
		}
		key := f.Key() + " " + string(f.Reason)
		seen[key] = f.Message
		if a.reported[key] == f.Message {
			continue
		}
		a.Events.Eventf(cm, nil, corev1.EventTypeWarning, string(f.Reason), "Audit", "%s", f.Message)
	}
	a.reported = seen
}

// stale reports whether findings call for a re-injection.
func stale(fs []Finding) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool {
		return f.Reason == ReasonNotInjected || f.Reason == ReasonStaleInjection
	})
}

// reinject re-applies ds through the API server with an empty patch: the API server sends the
// update through the mutating webhook, which injects it anew (the one injection code path), and
// through the validating webhook. It reports whether the webhook injected it.
func (a *Auditor) reinject(ctx context.Context, ds *appsv1.DaemonSet) bool {
	writes.WithLabelValues("reinject").Inc()
	before := ds.Annotations[names.StatusAnnotation]
	fail := func(format string, args ...any) bool {
		msg := fmt.Sprintf(format, args...)
		a.Events.Eventf(ds, nil, corev1.EventTypeWarning, EventReinjectFailed, "Reinject", "%s", msg)
		logf.FromContext(ctx).Info("reinject failed", "daemonSet", ds.Namespace+"/"+ds.Name, "reason", msg)
		return false
	}
	if err := a.Client.Patch(ctx, ds, client.RawPatch(types.MergePatchType, []byte("{}"))); err != nil {
		return fail("re-applying the DaemonSet failed: %v", err)
	}
	if ds.Annotations[names.StatusAnnotation] == before {
		return fail("re-applied, but the webhook did not inject it anew (is its webhook configuration installed, and serving this version?)")
	}
	a.Events.Eventf(ds, nil, corev1.EventTypeNormal, EventReinjected, "Reinject",
		"re-applied through the API server so that the webhook injects it as version %q does", a.Inject.Version)
	logf.FromContext(ctx).Info("reinjected", "daemonSet", ds.Namespace+"/"+ds.Name)
	return true
}

// setFindingsMetric sets metrics_proxy_audit_findings to the counts of fs, zero included.
func setFindingsMetric(fs []Finding) {
	counts := map[[2]string]int{}
	for _, f := range fs {
		counts[[2]string{f.Kind, string(f.Reason)}]++
	}
	for _, kind := range []string{KindDaemonSet, KindConfigMap} {
		for _, r := range Reasons() {
			findings.WithLabelValues(kind, string(r)).Set(float64(counts[[2]string{kind, string(r)}]))
		}
	}
}
