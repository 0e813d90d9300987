// Package certs gives the webhook server its serving certificate, in the three ways clusters run
// webhooks, behind one small interface (Source):
//
//   - Files (modes "files" and "cert-manager"): tls.crt and tls.key in a directory, a mounted
//     Secret for instance, reloaded when they change (controller-runtime's certwatcher);
//   - SelfSigned ("self-signed"): the server keeps a CA and a serving certificate in a Secret,
//     keeps the caBundle of its webhook configurations current, and rotates both before they
//     expire, the old CA staying in the bundle while certificates it signed may still be served.
//     Replicas agree through the Secret: every change is an optimistic update of it, so two
//     replicas never install two CAs, and every replica derives the caBundle from it.
//
// Why open-policy-agent/cert-controller: it is the small, maintained library Gatekeeper and
// others run for exactly this job, and it builds on controller-runtime, which we already use;
// cert-manager's packages would pull its whole API and controller machinery into the server for
// two certificates. We take cert-controller's key-pair functions (CreateCACert, CreateCertPEM,
// ValidCert) rather than its rotator, because the rotator replaces the CA in the caBundle at once
// (replicas still serving the old certificate would fail until their volume catches up) and
// expects the Secret mounted as a volume; this package keeps the old CA in the bundle during the
// overlap and writes the files itself, so a rotation reaches every replica within one check.
package certs
