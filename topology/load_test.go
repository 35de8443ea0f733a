package topology_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/topology"
)

// header is a valid start of a topology, six lines long, so that the lines
// of a case's body start at 7.
const header = `app: shop
regions:
  - name: us-east-1
    role: primary
  - name: us-west-2
    role: standby
`

type want struct {
	line int
	path string
	msg  string // a part of the message
}

func TestParseReportsProblems(t *testing.T) {
	tests := []struct {
		name string
		// body follows header unless raw is set.
		body string
		raw  bool
		want []want
	}{
		{
			name: "unknown top-level key",
			body: "services:\n  - name: web\n    cluster: shop\nservics: []\n",
			want: []want{{10, "servics", "unknown key (did you mean services?)"}},
		},
		{
			name: "unknown nested key",
			body: "services:\n  - name: web\n    cluster: shop\n    clustre: x\n",
			want: []want{{10, "services[0].clustre", "unknown key (did you mean cluster?)"}},
		},
		{
			name: "duplicate key",
			body: "services:\n  - name: web\n    cluster: shop\n    cluster: shop\n",
			want: []want{{10, "services[0].cluster", "duplicate key; it is first set on line 9"}},
		},
		{
			name: "missing cluster reported on the item's line",
			body: "services:\n  - name: web\n    cluster: shop\n  - name: api\n",
			want: []want{{10, "services[1].cluster", "required"}},
		},
		{
			name: "wrong value type",
			body: "services:\n  - name: web\n    cluster: shop\n    count: four\n",
			want: []want{{10, "services[0].count", `must be a whole number, not "four"`}},
		},
		{
			name: "list where a mapping belongs",
			body: "services:\n  - name: web\n    cluster: shop\n    sandbox: [a]\n",
			want: []want{{10, "services[0].sandbox", "must be a mapping"}},
		},
		{
			name: "count out of range",
			body: "services:\n  - name: web\n    cluster: shop\n    count: 99999999999\n",
			want: []want{{10, "services[0].count", "99999999999 is out of range"}},
		},
		{
			name: "share above one and share with count",
			body: "services:\n  - name: web\n    cluster: shop\n    share: 1.5\n    count: 2\n",
			want: []want{
				{10, "services[0].share", "must be more than 0 and at most 1, not 1.5"},
				{11, "services[0].count", "set share or count, not both"},
			},
		},
		{
			name: "zero share and negative count",
			body: "services:\n  - name: web\n    cluster: shop\n    share: 0\n" +
				"  - name: api\n    cluster: shop\n    count: -1\n",
			want: []want{
				{10, "services[0].share", "must be more than 0 and at most 1, not 0"},
				{13, "services[1].count", "must be 0 or more, not -1"},
			},
		},
		{
			name: "cluster given as an ARN",
			body: "services:\n  - name: web\n" +
				"    cluster: arn:aws:ecs:us-east-1:123456789012:cluster/shop\n",
			want: []want{{9, "services[0].cluster", "must be a cluster name, not an ARN"}},
		},
		{
			name: "two components drive one ECS service",
			body: "services:\n  - name: web\n    cluster: shop\n" +
				"  - name: web2\n    cluster: shop\n    service: web\n",
			want: []want{{10, "services[1]", "ECS service web in cluster shop is already services[0]"}},
		},
		{
			name: "bad app name",
			raw:  true,
			body: strings.Replace(header, "app: shop", "app: My_Shop", 1) +
				"services:\n  - name: web\n    cluster: shop\n",
			want: []want{{1, "app", `"My_Shop" must be lowercase letters`}},
		},
		{
			name: "missing app",
			raw:  true,
			body: strings.Replace(header, "app: shop\n", "", 1) +
				"services:\n  - name: web\n    cluster: shop\n",
			want: []want{{1, "app", "required"}},
		},
		{
			name: "malformed region name reported once",
			raw:  true,
			body: strings.Replace(header, "us-west-2", "uswest2", 1) +
				"databases:\n  - name: orders\n    engine: rds\n" +
				"    instances: {us-east-1: a, uswest2: b}\n",
			want: []want{{5, "regions[1].name", `"uswest2" is not a region name such as us-east-1`}},
		},
		{
			name: "two primaries and no standby",
			raw:  true,
			body: strings.Replace(header, "standby", "primary", 1) +
				"services:\n  - name: web\n    cluster: shop\n",
			want: []want{
				{2, "regions", "no region has role standby"},
				{6, "regions[1].role", "a second primary"},
			},
		},
		{
			name: "unknown role",
			raw:  true,
			body: strings.Replace(header, "standby", "backup", 1) +
				"services:\n  - name: web\n    cluster: shop\n",
			want: []want{
				{2, "regions", "no region has role standby"},
				{6, "regions[1].role", `"backup" is not one of primary, standby`},
			},
		},
		{
			name: "duplicate region",
			raw:  true,
			body: header + "  - name: us-west-2\n    role: standby\n" +
				"services:\n  - name: web\n    cluster: shop\n",
			want: []want{{7, "regions[2].name", "region us-west-2 is already regions[1]"}},
		},
		{
			name: "health URL on one region only",
			raw:  true,
			body: strings.Replace(header, "role: primary\n",
				"role: primary\n    healthURL: https://a.example.com/healthz\n", 1) +
				"services:\n  - name: web\n    cluster: shop\n",
			want: []want{{6, "regions[1].healthURL", "required, since other regions have one"}},
		},
		{
			name: "health URL not http",
			raw:  true,
			body: strings.Replace(header, "role: primary\n",
				"role: primary\n    healthURL: ftp://a.example.com\n", 1) +
				"services:\n  - name: web\n    cluster: shop\n",
			want: []want{
				{5, "regions[0].healthURL", `"ftp://a.example.com" is not an http or https URL`},
				{6, "regions[1].healthURL", "required, since other regions have one"},
			},
		},
		{
			name: "no components",
			body: "approvals: [database]\n",
			want: []want{{1, "", "nothing to fail over"}},
		},
		{
			name: "unknown approval and a duplicate",
			body: "approvals: [database, reboot, database]\n" +
				"services:\n  - name: web\n    cluster: shop\n",
			want: []want{
				{7, "approvals[1]", `"reboot" is not one of database, service, dns, scale-down`},
				{7, "approvals[2]", "database is listed twice"},
			},
		},
		{
			name: "duplicate component names across kinds",
			body: "databases:\n  - name: web\n    engine: rds\n" +
				"    instances: {us-east-1: a, us-west-2: b}\n" +
				"services:\n  - name: web\n    cluster: shop\n",
			want: []want{{12, "services[0].name", `"web" is already the name of databases[0]`}},
		},
		{
			name: "dependsOn names an unknown component and itself",
			body: "services:\n  - name: web\n    cluster: shop\n    dependsOn: [api, web]\n",
			want: []want{
				{10, "services[0].dependsOn[0]", `"api" names no database, service or dns`},
				{10, "services[0].dependsOn[1]", "web depends on itself"},
			},
		},
		{
			name: "cycle of explicit dependencies",
			body: "services:\n" +
				"  - name: a\n    cluster: shop\n    dependsOn: [b]\n" +
				"  - name: b\n    cluster: shop\n    dependsOn: [c]\n" +
				"  - name: c\n    cluster: shop\n    dependsOn: [a]\n",
			want: []want{{10, "services[0].dependsOn", "dependency cycle: a -> b -> c -> a"}},
		},
		{
			name: "cycle through a default dependency",
			body: "databases:\n  - name: orders\n    engine: rds\n" +
				"    instances: {us-east-1: a, us-west-2: b}\n    dependsOn: [web]\n" +
				"services:\n  - name: web\n    cluster: shop\n",
			want: []want{{11, "databases[0].dependsOn",
				"dependency cycle: orders -> web -> orders (without dependsOn, " +
					"web waits for every database)"}},
		},
		{
			name: "unknown engine and bad maxLag",
			body: "databases:\n  - name: orders\n    engine: postgres\n    maxLag: 0s\n",
			want: []want{
				{9, "databases[0].engine", `"postgres" is not one of rds, aurora-global`},
				{10, "databases[0].maxLag", "must be positive, not 0s"},
			},
		},
		{
			name: "maxLag that is not a duration",
			body: "databases:\n  - name: orders\n    engine: rds\n    maxLag: soon\n" +
				"    instances: {us-east-1: a, us-west-2: b}\n",
			want: []want{{10, "databases[0].maxLag", `must be a duration such as 30s`}},
		},
		{
			name: "rds instances without a counterpart",
			body: "databases:\n  - name: orders\n    engine: rds\n    instances:\n" +
				"      us-east-1: shop-orders\n      eu-west-1: shop-orders-replica\n",
			want: []want{
				{10, "databases[0].instances", "no entry for region us-west-2"},
				{12, "databases[0].instances.eu-west-1",
					"region eu-west-1 is not among regions (us-east-1, us-west-2)"},
			},
		},
		{
			name: "rds without instances and with aurora fields",
			body: "databases:\n  - name: orders\n    engine: rds\n    globalCluster: g\n",
			want: []want{
				{8, "databases[0].instances", "required for engine rds"},
				{10, "databases[0].globalCluster", "only for engine aurora-global"},
			},
		},
		{
			name: "ARN region does not match its key",
			body: "databases:\n  - name: orders\n    engine: rds\n    instances:\n" +
				"      us-east-1: shop-orders\n" +
				"      us-west-2: arn:aws:rds:eu-west-1:123456789012:db:shop-orders-replica\n",
			want: []want{{12, "databases[0].instances.us-west-2",
				"is in region eu-west-1 but is given for us-west-2"}},
		},
		{
			name: "ARN of the wrong kind and a short account",
			body: "databases:\n  - name: orders\n    engine: rds\n    instances:\n" +
				"      us-east-1: arn:aws:rds:us-east-1:123456789012:cluster:shop\n" +
				"      us-west-2: arn:aws:rds:us-west-2:1234:db:shop\n",
			want: []want{
				{11, "databases[0].instances.us-east-1", "names a cluster, not a DB instance"},
				{12, "databases[0].instances.us-west-2", `account "1234" must be 12 digits`},
			},
		},
		{
			name: "malformed ARN and identifier",
			body: "databases:\n  - name: orders\n    engine: rds\n    instances:\n" +
				"      us-east-1: arn:aws:rds:us-east-1\n" +
				"      us-west-2: 9orders--replica\n",
			want: []want{
				{11, "databases[0].instances.us-east-1", "is not an RDS ARN"},
				{12, "databases[0].instances.us-west-2",
					`"9orders--replica" is not a DB instance identifier`},
			},
		},
		{
			name: "one instance claimed by two databases",
			body: "databases:\n" +
				"  - name: orders\n    engine: rds\n    instances: {us-east-1: a, us-west-2: b}\n" +
				"  - name: orders2\n    engine: rds\n" +
				"    instances: {us-east-1: 'arn:aws:rds:us-east-1:123456789012:db:a', us-west-2: c}\n",
			want: []want{{13, "databases[1].instances.us-east-1",
				"DB instance a is already databases[0].instances.us-east-1"}},
		},
		{
			name: "aurora without clusters and a regional global cluster ARN",
			body: "databases:\n  - name: catalog\n    engine: aurora-global\n" +
				"    globalCluster: arn:aws:rds:us-east-1:123456789012:global-cluster:g\n",
			want: []want{
				{8, "databases[0].clusters", "required for engine aurora-global"},
				{10, "databases[0].globalCluster", "a global cluster's ARN has no region"},
			},
		},
		{
			name: "database sandbox problems",
			body: "databases:\n  - name: orders\n    engine: rds\n" +
				"    instances: {us-east-1: a, us-west-2: b}\n" +
				"    sandbox:\n      engine: aurora-mysql\n      instanceClass: large\n" +
				"      backupRetention: 0\n" +
				"      securityGroups: {us-east-1: [sg-1], us-west-2: [sg-0123456789abcdef0]}\n",
			want: []want{
				{12, "databases[0].sandbox.engine", `"aurora-mysql" does not suit engine rds`},
				{13, "databases[0].sandbox.instanceClass", "is not an instance class"},
				{14, "databases[0].sandbox.backupRetention", "needs automated backups"},
				{15, "databases[0].sandbox.securityGroups.us-east-1[0]",
					`"sg-1" is not a security group id`},
			},
		},
		{
			name: "service sandbox without image or all regions",
			body: "services:\n  - name: web\n    cluster: shop\n    sandbox:\n" +
				"      desiredCount: {us-east-1: -1}\n",
			want: []want{
				{10, "services[0].sandbox.image", "required"},
				{11, "services[0].sandbox.desiredCount", "no entry for region us-west-2"},
				{11, "services[0].sandbox.desiredCount.us-east-1", "must be 0 or more, not -1"},
			},
		},
		{
			name: "zone without domain or records",
			body: "dns:\n  - name: public\n",
			want: []want{
				{8, "dns[0].domain", "required"},
				{8, "dns[0].records", "required"},
			},
		},
		{
			name: "record outside its zone with a bad type and routing",
			body: "dns:\n  - name: public\n    domain: shop.example.com\n    records:\n" +
				"      - name: api.other.com\n        type: MX\n        routing: latency\n" +
				"        targets: {us-east-1: {setIdentifier: a}, us-west-2: {setIdentifier: b}}\n",
			want: []want{
				{11, "dns[0].records[0].name", "api.other.com. is outside the zone shop.example.com."},
				{12, "dns[0].records[0].type", `"MX" is not one of A, AAAA, CNAME`},
				{13, "dns[0].records[0].routing", `"latency" is not one of failover, weighted`},
			},
		},
		{
			name: "failover record without the primary and with a weight",
			body: "dns:\n  - name: public\n    domain: shop.example.com.\n    records:\n" +
				"      - name: api.shop.example.com.\n        type: A\n        routing: failover\n" +
				"        targets:\n" +
				"          us-west-2: {setIdentifier: b, weight: 5, value: 10.0.0.300}\n",
			want: []want{
				{14, "dns[0].records[0].targets", "no entry for the primary region us-east-1"},
				{15, "dns[0].records[0].targets.us-west-2.value",
					`"10.0.0.300" is not an IPv4 address`},
				{15, "dns[0].records[0].targets.us-west-2.weight",
					"only weighted records take a weight"},
			},
		},
		{
			name: "weighted record with a repeated set identifier and no weight",
			body: "dns:\n  - name: public\n    domain: shop.example.com.\n    records:\n" +
				"      - name: www.shop.example.com.\n        type: CNAME\n        routing: weighted\n" +
				"        targets:\n" +
				"          us-east-1: {setIdentifier: www, weight: 300}\n" +
				"          us-west-2: {setIdentifier: www}\n",
			want: []want{
				{15, "dns[0].records[0].targets.us-east-1.weight", "must be 0 to 255, not 300"},
				{16, "dns[0].records[0].targets.us-west-2.setIdentifier",
					`"www" is also the set identifier of us-east-1`},
				{16, "dns[0].records[0].targets.us-west-2.weight", "required for a weighted record"},
			},
		},
		{
			name: "CNAME beside another type and at the apex",
			body: "dns:\n  - name: public\n    domain: shop.example.com.\n    records:\n" +
				"      - name: shop.example.com.\n        type: CNAME\n        routing: weighted\n" +
				"        targets: {us-east-1: {setIdentifier: a, weight: 1}, " +
				"us-west-2: {setIdentifier: b, weight: 0}}\n" +
				"      - name: shop.example.com.\n        type: A\n        routing: weighted\n" +
				"        targets: {us-east-1: {setIdentifier: a, weight: 1}, " +
				"us-west-2: {setIdentifier: b, weight: 0}}\n",
			want: []want{
				{12, "dns[0].records[0].type", "a CNAME cannot be at the zone apex"},
				{15, "dns[0].records[1]", "a CNAME stands alone"},
			},
		},
		{
			name: "health check problems",
			body: "dns:\n  - name: public\n    domain: shop.example.com.\n    records:\n" +
				"      - name: api.shop.example.com.\n        type: A\n        routing: failover\n" +
				"        targets:\n" +
				"          us-east-1:\n            setIdentifier: a\n" +
				"            healthCheck: {type: TCP, fqdn: a.shop.example.com, path: /x}\n" +
				"          us-west-2:\n            setIdentifier: b\n" +
				"            healthCheck: {type: HTTP, fqdn: 'bad name', port: 0}\n",
			want: []want{
				{17, "dns[0].records[0].targets.us-east-1.healthCheck.path",
					"only HTTP and HTTPS health checks take a path"},
				{17, "dns[0].records[0].targets.us-east-1.healthCheck.port",
					"required for a TCP health check"},
				{20, "dns[0].records[0].targets.us-west-2.healthCheck.fqdn",
					`"bad name" is not a domain name`},
				{20, "dns[0].records[0].targets.us-west-2.healthCheck.port",
					"must be 1 to 65535, not 0"},
			},
		},
		{
			name: "syntax error",
			body: "services: [a\n",
			want: []want{{7, "", "YAML syntax"}},
		},
		{
			name: "empty file",
			raw:  true,
			body: "# nothing here\n",
			want: []want{{0, "", "the file is empty"}},
		},
		{
			name: "top level is a list",
			raw:  true,
			body: "- app: shop\n",
			want: []want{{1, "", "must be a mapping of keys to values, not a list"}},
		},
		{
			name: "two documents",
			body: "services:\n  - name: web\n    cluster: shop\n---\napp: other\n",
			want: []want{{11, "", "the file holds 2 YAML documents"}},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.body
			if !tt.raw {
				data = header + tt.body
			}
			got, err := topology.Parse("shop.yaml", []byte(data))
			require.Nil(t, got)
			var terr *topology.Error
			require.ErrorAs(t, err, &terr, "want problems, got %v", err)

			require.Len(t, terr.Problems, len(tt.want), "problems:\n%s", err)
			for i, w := range tt.want {
				p := terr.Problems[i]
				require.Equal(t, "shop.yaml", p.File)
				require.Equal(t, w.line, p.Line, "problem %d: %s", i, p)
				require.Equal(t, w.path, p.Path, "problem %d: %s", i, p)
				require.Contains(t, p.Message, w.msg, "problem %d: %s", i, p)
			}
		})
	}
}

func TestErrorListsEveryProblemOnePerLine(t *testing.T) {
	data := header + "services:\n  - name: web\n  - name: api\n    cluster: shop\n    colour: red\n"
	_, err := topology.Parse("shop.yaml", []byte(data))
	require.EqualError(t, err, "shop.yaml:8: services[0].cluster: required\n"+
		"shop.yaml:11: services[1].colour: unknown key")
}

func TestLoadExample(t *testing.T) {
	top, err := topology.Load("../examples/shop.yaml")
	require.NoError(t, err)

	require.Equal(t, "shop", top.App)
	require.Equal(t, "us-east-1", top.Primary().Name)
	require.Len(t, top.Standbys(), 1)
	require.Equal(t, "us-west-2", top.Standbys()[0].Name)
	require.Equal(t, []string{"us-east-1", "us-west-2"}, top.RegionNames())
	require.True(t, top.NeedsApproval(topology.ApproveDatabase))
	require.False(t, top.NeedsApproval(topology.ApproveDNS))

	var names []string
	for _, c := range top.Components() {
		names = append(names, string(c.Kind)+"/"+c.Name)
	}
	require.Equal(t, []string{
		"database/orders", "database/catalog",
		"service/web", "service/api", "service/cart", "service/checkout", "service/worker",
		"dns/public",
	}, names)

	worker, ok := top.Component("worker")
	require.True(t, ok)
	require.Equal(t, []string{"orders", "catalog"}, worker.DependsOn,
		"a service without dependsOn waits for every database")
	zone, ok := top.Component("public")
	require.True(t, ok)
	require.Equal(t, []string{"orders", "catalog", "web", "api", "cart", "checkout", "worker"},
		zone.DependsOn, "a zone without dependsOn waits for everything else")

	orders, _ := top.Component("orders")
	require.Equal(t, topology.Duration(30*time.Second), orders.Database.MaxLag)
	catalog, _ := top.Component("catalog")
	require.Equal(t, topology.DefaultMaxLag, catalog.Database.MaxLag)

	checkout, _ := top.Component("checkout")
	require.Equal(t, "shop-checkout", checkout.Service.Service)
	web, _ := top.Component("web")
	require.Equal(t, "web", web.Service.Service)
	require.Equal(t, 1.0, web.Service.Share)
	require.Equal(t, int32(4), web.Service.Sandbox.DesiredCount["us-east-1"])

	api := top.DNS[0].Records[0]
	require.Equal(t, topology.RoutingFailover, api.Routing)
	require.NotNil(t, api.Targets["us-east-1"].HealthCheck)
	require.Equal(t, int32(443), api.Targets["us-east-1"].HealthCheck.Port)
	require.Equal(t, topology.FailoverPrimary, top.FailoverRole("us-east-1"))
	require.Equal(t, topology.FailoverSecondary, top.FailoverRole("us-west-2"))

	_, ok = top.Component("nothing")
	require.False(t, ok)
	_, ok = top.Region("eu-west-1")
	require.False(t, ok)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := topology.Load(filepath.Join(t.TempDir(), "absent.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// minimal leaves out everything that has a default.
const minimal = header + `databases:
  - name: orders
    engine: rds
    instances:
      us-east-1: orders
      us-west-2: orders-replica
    sandbox:
      engine: postgres
      instanceClass: db.t4g.micro
services:
  - name: api
    cluster: shop
  - name: web
    cluster: shop
    count: 3
    dependsOn: []
dns:
  - name: public
    domain: shop.example.com
    zoneId: /hostedzone/Z0123456789ABC
    records:
      - name: api.shop.example.com
        type: A
        routing: failover
        targets:
          us-east-1:
            setIdentifier: a
            value: 192.0.2.1
            healthCheck: {type: HTTP, fqdn: a.shop.example.com.}
          us-west-2:
            setIdentifier: b
            value: 192.0.2.2
            ttl: 30
            healthCheck: {type: TCP, fqdn: b.shop.example.com, port: 5432}
`

func TestDefaultsRoundTrip(t *testing.T) {
	top, err := topology.Parse("minimal.yaml", []byte(minimal))
	require.NoError(t, err)

	orders := top.Databases[0]
	require.Equal(t, topology.DefaultMaxLag, orders.MaxLag)
	require.Equal(t, int32(7), *orders.Sandbox.BackupRetention)
	require.Empty(t, orders.DependsOn)

	api, web := top.Services[0], top.Services[1]
	require.Equal(t, "api", api.Service)
	require.Equal(t, 1.0, api.Share)
	require.Equal(t, []string{"orders"}, api.DependsOn)
	require.Equal(t, "web", web.Service)
	require.Zero(t, web.Share, "a fixed count leaves share unset")
	require.Equal(t, int32(3), *web.Count)
	require.Empty(t, web.DependsOn, "an explicit empty dependsOn stays empty")

	zone := top.DNS[0]
	require.Equal(t, "shop.example.com.", zone.Domain)
	require.Equal(t, "Z0123456789ABC", zone.ZoneID)
	require.Equal(t, []string{"orders", "api", "web"}, zone.DependsOn)
	rec := zone.Records[0]
	require.Equal(t, "api.shop.example.com.", rec.Name)
	a, b := rec.Targets["us-east-1"], rec.Targets["us-west-2"]
	require.Equal(t, int64(topology.DefaultTTL), a.TTL)
	require.Equal(t, int64(30), b.TTL)
	require.Equal(t, topology.HealthCheck{Type: "HTTP", FQDN: "a.shop.example.com",
		Port: 80, Path: "/"}, *a.HealthCheck)
	require.Equal(t, topology.HealthCheck{Type: "TCP", FQDN: "b.shop.example.com",
		Port: 5432}, *b.HealthCheck)

	// What Parse returns, written back out, reads as itself: defaults are
	// stable and every field survives.
	out, err := yaml.Marshal(top)
	require.NoError(t, err)
	again, err := topology.Parse("again.yaml", out)
	require.NoError(t, err, "re-reading:\n%s", out)
	require.Equal(t, top, again)
}

func TestDurationText(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "30s", want: 30 * time.Second},
		{in: "1m30s", want: 90 * time.Second},
		{in: "250ms", want: 250 * time.Millisecond},
		{in: "30", err: `must be a duration such as 30s or 2m, not "30"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d topology.Duration
			err := d.UnmarshalText([]byte(tt.in))
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, time.Duration(d))
			text, err := d.MarshalText()
			require.NoError(t, err)
			require.Equal(t, time.Duration(d).String(), string(text))
		})
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	data := header + `services:
  - &base
    name: api
    cluster: shop
    sandbox:
      image: app:1
      desiredCount: &counts {us-east-1: 2, us-west-2: 0}
  - <<: *base
    name: web
    sandbox:
      image: web:1
      desiredCount: *counts
`
	top, err := topology.Parse("shop.yaml", []byte(data))
	require.NoError(t, err)
	require.Len(t, top.Services, 2)
	require.Equal(t, "web", top.Services[1].Name)
	require.Equal(t, "shop", top.Services[1].Cluster, "merged from the anchor")
	require.Equal(t, "web:1", top.Services[1].Sandbox.Image, "own keys win over merged ones")
	require.Equal(t, int32(2), top.Services[1].Sandbox.DesiredCount["us-east-1"])
}

func TestValidNamesAreTheLoadersRules(t *testing.T) {
	for name, want := range map[string]bool{
		"shop": true, "shop-2": true, "s": true, "Shop": false, "shop-": false,
		"2shop": false, "shop!": false, "": false, strings.Repeat("a", 64): false,
	} {
		require.Equal(t, want, topology.ValidName(name), name)
	}
	for name, want := range map[string]bool{
		"us-east-1": true, "us-gov-west-1": true, "useast1": false, "US-EAST-1": false,
	} {
		require.Equal(t, want, topology.ValidRegionName(name), name)
	}
}
