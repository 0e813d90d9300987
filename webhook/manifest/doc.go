// Package manifest reads and writes multi-document YAML the way kubectl does, for the offline CLI:
// it splits a stream into documents, tells their kinds, runs DaemonSets and proxy ConfigMaps
// through the same JSON functions as the webhooks, and passes every other document through byte
// for byte. It is pure: no client, no HTTP.
package manifest
