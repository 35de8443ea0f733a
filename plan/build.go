package plan

import (
	"slices"
	"time"

	"github.com/drover-dev/drover/topology"
)

// builder adds steps in topological order: a step is added only after
// every step it depends on.
type builder struct {
	t     *topology.Topology
	req   Request
	est   Estimates
	steps []*Step
	// pre are the preflight steps everything else waits for.
	pre []string
}

func (b *builder) add(s *Step) *Step {
	b.steps = append(b.steps, s)
	return s
}

func (b *builder) ungraceful() bool { return b.req.Mode == Ungraceful }

// gate returns the approval step for kind, adding it the first time, or ""
// when the topology does not ask for that approval.
func (b *builder) gate(kind string) string {
	if b.req.SkipApprovals || !slices.Contains(b.t.Approvals, kind) {
		return ""
	}
	id := "approve:" + kind
	for _, s := range b.steps {
		if s.ID == id {
			return id
		}
	}
	b.add(&Step{ID: id, Kind: StepApproval, Gate: kind, DependsOn: b.pre})
	return id
}

// componentStep maps a topology component to the step that recovers it.
func (b *builder) componentStep(name string) string {
	for _, d := range b.t.Databases {
		if d.Name == name {
			return string(StepPromoteDatabase) + ":" + name
		}
	}
	for _, s := range b.t.Services {
		if s.Name == name {
			return string(StepScaleService) + ":" + name
		}
	}
	for _, z := range b.t.DNS {
		if z.Name == name {
			return string(StepFlipDNS) + ":" + name
		}
	}
	return ""
}

func deps(ids ...string) []string {
	var out []string
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func (b *builder) build() {
	to, from := b.req.To, b.req.From
	failback := b.req.Kind == Failback

	b.add(&Step{ID: "preflight", Kind: StepPreflight, Region: to, ReadOnly: true,
		Estimate: b.est.Preflight})
	b.pre = []string{"preflight"}
	if !b.ungraceful() {
		// A graceful move relies on the source, so it checks it too; an
		// ungraceful one never waits on it.
		b.add(&Step{ID: "preflight-source", Kind: StepPreflight, Region: from,
			ReadOnly: true, Estimate: b.est.Preflight})
		b.pre = append(slices.Clone(b.pre), "preflight-source")
	}
	b.add(&Step{ID: "observe-source", Kind: StepObserveSource, Region: from,
		ReadOnly: true, BestEffort: b.ungraceful(), Estimate: b.est.Preflight})

	dbGate := b.gate(ApproveDatabase)
	var writersStopped []string
	if !b.ungraceful() {
		for _, s := range b.t.Services {
			st := b.add(&Step{
				ID: string(StepStopWriters) + ":" + s.Name, Kind: StepStopWriters,
				Region: from, Component: s.Name,
				DependsOn: deps(append(slices.Clone(b.pre), "observe-source", dbGate)...),
				Estimate:  b.est.StopWriters,
			})
			writersStopped = append(writersStopped, st.ID)
		}
	}

	for _, d := range b.databases() {
		var resync string
		if failback && d.Engine == topology.EngineRDS {
			resync = b.add(&Step{
				ID: string(StepResyncDatabase) + ":" + d.Name, Kind: StepResyncDatabase,
				Region: to, Component: d.Name, DependsOn: deps(append(slices.Clone(b.pre), dbGate)...),
				Estimate: b.est.Resync,
			}).ID
		}
		dependsOn := deps(append(append(slices.Clone(b.pre), dbGate, resync), writersStopped...)...)
		for _, c := range d.DependsOn {
			dependsOn = deps(append(dependsOn, b.componentStep(c))...)
		}
		b.add(&Step{
			ID: string(StepPromoteDatabase) + ":" + d.Name, Kind: StepPromoteDatabase,
			Region: to, Component: d.Name, DependsOn: dependsOn,
			Estimate: b.promoteEstimate(d),
		})
	}

	serviceGate := b.gate(ApproveService)
	for _, s := range b.services() {
		dependsOn := append([]string{serviceGate}, b.pre...)
		if !b.ungraceful() {
			// In ungraceful mode the source's task counts are used if
			// they arrived in time, never waited for.
			dependsOn = append(dependsOn, "observe-source")
		}
		for _, c := range s.DependsOn {
			dependsOn = append(dependsOn, b.componentStep(c))
		}
		b.add(&Step{
			ID: string(StepScaleService) + ":" + s.Name, Kind: StepScaleService,
			Region: to, Component: s.Name, DependsOn: deps(dependsOn...),
			Estimate: b.est.ServiceStart,
		})
	}

	dnsGate := b.gate(ApproveDNS)
	var flips []string
	for _, z := range b.zones() {
		dependsOn := append([]string{dnsGate}, b.pre...)
		for _, c := range z.DependsOn {
			dependsOn = append(dependsOn, b.componentStep(c))
		}
		st := b.add(&Step{
			ID: string(StepFlipDNS) + ":" + z.Name, Kind: StepFlipDNS,
			Region: to, Component: z.Name, DependsOn: deps(dependsOn...),
			Estimate: b.est.DNSPropagation,
		})
		flips = append(flips, st.ID)
	}

	verifyDeps := flips
	if len(verifyDeps) == 0 {
		for _, s := range b.steps {
			if s.Kind == StepScaleService || s.Kind == StepPromoteDatabase {
				verifyDeps = append(verifyDeps, s.ID)
			}
		}
	}
	b.add(&Step{ID: "verify", Kind: StepVerify, Region: to, ReadOnly: true,
		DependsOn: deps(append(append([]string{}, b.pre...), verifyDeps...)...),
		Estimate:  b.est.Verify})

	if b.req.ScaleDownSource {
		gate := b.gate(ApproveScaleDown)
		for _, s := range b.t.Services {
			b.add(&Step{
				ID: string(StepScaleDownSource) + ":" + s.Name, Kind: StepScaleDownSource,
				Region: from, Component: s.Name, BestEffort: b.ungraceful(),
				DependsOn: deps("verify", gate), Estimate: b.est.StopWriters,
			})
		}
	}

	if failback {
		for _, d := range b.t.Databases {
			if d.Engine != topology.EngineRDS {
				continue
			}
			b.add(&Step{
				ID: string(StepRebuildReplica) + ":" + d.Name, Kind: StepRebuildReplica,
				Region: from, Component: d.Name, DependsOn: []string{"verify"},
				Estimate: b.est.Resync,
			})
		}
	}
}

func (b *builder) promoteEstimate(d topology.Database) time.Duration {
	switch {
	case d.Engine == topology.EngineRDS:
		return b.est.PromoteInstance
	case b.ungraceful():
		return b.est.AuroraFailover
	default:
		return b.est.AuroraSwitchover
	}
}

// The components in dependency order, so that every step's dependencies
// are already in the plan when it is added. Topology validation has
// rejected cycles.

func (b *builder) databases() []topology.Database {
	return topoSort(b.t.Databases, func(d topology.Database) (string, []string) {
		return d.Name, d.DependsOn
	})
}

func (b *builder) services() []topology.Service {
	return topoSort(b.t.Services, func(s topology.Service) (string, []string) {
		return s.Name, s.DependsOn
	})
}

func (b *builder) zones() []topology.Zone {
	return topoSort(b.t.DNS, func(z topology.Zone) (string, []string) {
		return z.Name, z.DependsOn
	})
}

// topoSort orders items so that each comes after the items of the same
// list it depends on, keeping the file's order otherwise.
func topoSort[T any](items []T, key func(T) (string, []string)) []T {
	index := map[string]int{}
	for i, it := range items {
		name, _ := key(it)
		index[name] = i
	}
	done := make([]bool, len(items))
	var out []T
	var visit func(i int, depth int)
	visit = func(i int, depth int) {
		if done[i] || depth > len(items) {
			return
		}
		_, ds := key(items[i])
		for _, d := range ds {
			if j, ok := index[d]; ok {
				visit(j, depth+1)
			}
		}
		if !done[i] {
			done[i] = true
			out = append(out, items[i])
		}
	}
	for i := range items {
		visit(i, 0)
	}
	return out
}
