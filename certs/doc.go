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
// Certificates are made with open-policy-agent/cert-controller's key-pair functions; this
// package adds what cert-controller's rotator lacks: the CA overlap and files for certwatcher.
package certs
