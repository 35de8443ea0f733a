// Package topology describes one application across AWS regions: which
// region is primary and which stand by, and the ECS services, databases and
// Route 53 records that a failover moves. A topology is read from YAML (the
// repository's examples/shop.yaml is a commented one) and checked whole
// before anything acts on it: Load and Parse return an *Error listing every
// problem, each with its line and field path, such as
//
//	shop.yaml:14: services[2].cluster: required
//
// # Rules
//
// Names. The app and every component are named with lowercase letters,
// digits and dashes (at most 63, starting with a letter), since the names
// go into workflow ids. Component names are unique across databases,
// services and dns. Region names look like us-east-1.
//
// Regions. Exactly one is primary and at least one standby. Either every
// region has a healthURL (http or https) or none does.
//
// Per-region maps (instances, clusters, desiredCount, securityGroups and
// weighted records' targets) have one entry for each region and name no
// other region. A failover record's targets are the exception: Route 53
// has one PRIMARY and one SECONDARY record, so they name the primary
// region and exactly one standby.
//
// Services. cluster is required and is a name, not an ARN, since the same
// name is used in every region; service defaults to the component's name.
// share is in (0, 1] and count is 0 or more; a service sets at most one of
// them. No two services drive the same cluster and service.
//
// Databases. engine is rds, with instances, or aurora-global, with
// globalCluster and clusters; neither takes the other's fields.
// Identifiers are RDS identifiers or ARNs
// (arn:aws:rds:<region>:<account>:db:<name>, :cluster:<name>, and
// arn:aws:rds::<account>:global-cluster:<name>); an ARN names the right
// kind of resource, a 12-digit account, and the region it is listed
// under. No two databases claim one instance or cluster. maxLag is
// positive.
//
// DNS. A zone has a domain and at least one record. Records are A, AAAA or
// CNAME inside the zone, routed by failover or weighted; a name and type
// appear once per zone, a CNAME shares its name with nothing and is never
// at the apex. Each target has a set identifier unique within its record;
// weighted targets need a weight from 0 to 255 and failover targets take
// none. Values, when given, suit the type (IPv4, IPv6 or a domain name).
// Health checks are HTTP, HTTPS or TCP against an fqdn; TCP needs a port
// and takes no path.
//
// Dependencies. dependsOn names other components, each once. Without it, a
// service depends on every database and a zone on every database and
// service; an explicit empty list means no dependencies. The resulting
// graph has no cycle; a cycle is reported with its path, a -> b -> a.
//
// Approvals are drawn from database, service, dns and scale-down.
//
// # Defaults
//
// After validation: Service.Service is the component's name, Share is 1
// unless Count is set, MaxLag is 60s, dependsOn is filled in as above,
// domain and record names end with a dot, a sandbox record's TTL is 60, a
// health check's port is 80 or 443 by type and its path /, and a sandbox
// database keeps backups for 7 days.
package topology
