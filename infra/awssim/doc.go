// Package awssim simulates the parts of AWS that drover drives (ECS, RDS and
// Route 53) and the CloudWatch metrics it reads (the replica lag of RDS read
// replicas and Aurora global secondaries) behind their real wire protocols,
// so that the unmodified aws-sdk-go-v2 clients talk to it as they would to
// AWS; only the endpoint differs.
//
// One HTTP server serves every region. The region of a request comes from
// the credential scope of its SigV4 Authorization header, as a client
// configured with a BaseEndpoint sends it. Route 53 is global: its calls are
// counted under the region "global", and a regional blackout leaves it alone.
//
// Resources change state over time as they do on AWS (a deployment ramps its
// tasks, a promotion passes through modifying and backing-up, a DNS change is
// PENDING before INSYNC). Durations come from a Profile whose TimeScale makes
// them all proportionally shorter. State advances lazily: a resource computes
// its transitions when it is next read, using the times they were scheduled
// for, so what the simulator records is exact and independent of polling.
//
// Replica lag is a reported value, not a duration: every replica lags by the
// Profile's RDSReplicaLag, unscaled, unless SetReplicaLag (PUT
// /_sim/replica-lag) sets its own.
//
// Faults (regional blackouts, error rates, latency, throttling and faults on
// single resources) and replica lags are set through a control API under
// /_sim/ on the same server; Control is its Go client.
package awssim
