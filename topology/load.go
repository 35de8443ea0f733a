package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
)

// Load reads and checks the topology file at path. A bad file returns an
// *Error that lists every problem.
func Load(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read topology: %w", err)
	}
	return Parse(filepath.Base(path), data)
}

// Parse checks the topology in data, naming it name in problems, and
// returns it with defaults applied. A bad topology returns an *Error that
// lists every problem.
func Parse(name string, data []byte) (*Topology, error) {
	ps := newProblems(name)
	root := parseYAML(data, ps)
	if root == nil {
		return nil, ps.err()
	}

	var t Topology
	d := decoder{ps: ps}
	d.decode(root, "", reflect.ValueOf(&t).Elem())
	validate(&t, ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	applyDefaults(&t)
	return &t, nil
}

// applyDefaults fills what a valid topology may leave out.
func applyDefaults(t *Topology) {
	comps := t.Components()
	deps := effectiveDeps(comps)
	for i, c := range comps {
		deps := slices.Clone(deps[i])
		switch c.Kind {
		case KindDatabase:
			c.Database.DependsOn = deps
		case KindService:
			c.Service.DependsOn = deps
		case KindDNS:
			c.Zone.DependsOn = deps
		}
	}

	for i := range t.Databases {
		d := &t.Databases[i]
		if d.MaxLag == 0 {
			d.MaxLag = DefaultMaxLag
		}
		if d.Sandbox != nil && d.Sandbox.BackupRetention == nil {
			days := int32(7)
			d.Sandbox.BackupRetention = &days
		}
	}
	for i := range t.Services {
		s := &t.Services[i]
		if s.Service == "" {
			s.Service = s.Name
		}
		if s.Count == nil && s.Share == 0 {
			s.Share = 1
		}
	}
	for i := range t.DNS {
		z := &t.DNS[i]
		z.Domain = fqdn(z.Domain)
		z.ZoneID = strings.TrimPrefix(z.ZoneID, "/hostedzone/")
		for j := range z.Records {
			r := &z.Records[j]
			r.Name = fqdn(r.Name)
			for region, target := range r.Targets {
				if target.Value != "" && target.TTL == 0 {
					target.TTL = DefaultTTL
				}
				if h := target.HealthCheck; h != nil {
					if h.Port == 0 && h.Type == "HTTP" {
						h.Port = 80
					}
					if h.Port == 0 && h.Type == "HTTPS" {
						h.Port = 443
					}
					if h.Path == "" && h.Type != "TCP" {
						h.Path = "/"
					}
					h.FQDN = strings.TrimSuffix(h.FQDN, ".")
				}
				r.Targets[region] = target
			}
		}
	}
}
