package awssim_test

import (
	"context"
	"fmt"
	"math/rand"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/require"

	"github.com/drover-dev/drover/infra/awssim"
)

const (
	benchClusters = 5
	benchServices = 1000 // over all clusters
	benchWorkers  = 8
)

// benchECSClient returns an ECS client whose transport keeps a connection
// per worker alive, as a long-running worker's client would.
func benchECSClient(b *testing.B, url string) *ecs.Client {
	b.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(ecsTestRegion),
		config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider("SIMULATED", "SIMULATED", "")))
	require.NoError(b, err)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 4 * benchWorkers
	tr.MaxIdleConnsPerHost = 4 * benchWorkers
	// Closing idle connections first lets the server shut down at once: it
	// waits on a connection that was dialed but never carried a request.
	b.Cleanup(tr.CloseIdleConnections)
	cfg.HTTPClient = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	cfg.BaseEndpoint = aws.String(url)
	return ecs.NewFromConfig(cfg)
}

func benchServiceName(i int) string { return fmt.Sprintf("svc-%04d", i) }

func benchClusterName(i int) string { return fmt.Sprintf("cluster-%d", i%benchClusters) }

// BenchmarkSimulatorThroughput drives one region holding 1,000 services
// with the mix of calls a failover's workers make: DescribeServices of
// ten, ListServices pages and UpdateService of the desired count, through
// the real SDK client from several goroutines. It reports calls/s.
func BenchmarkSimulatorThroughput(b *testing.B) {
	p := awssim.DefaultProfile()
	p.TimeScale = 6000
	srv, err := awssim.Listen("127.0.0.1:0", awssim.New(awssim.Options{Profile: &p}))
	require.NoError(b, err)
	b.Cleanup(func() { _ = srv.Close() })
	client := benchECSClient(b, srv.URL)
	ctx := context.Background()

	for c := range benchClusters {
		_, err := client.CreateCluster(ctx,
			&ecs.CreateClusterInput{ClusterName: aws.String(benchClusterName(c))})
		require.NoError(b, err)
	}
	_, err = client.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("web"),
		ContainerDefinitions: []types.ContainerDefinition{{
			Name: aws.String("web"), Image: aws.String("nginx:1.27"), Memory: aws.Int32(256),
		}},
	})
	require.NoError(b, err)
	benchRunWorkers(b, benchServices, func(i int) error {
		_, err := client.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String(benchClusterName(i)), ServiceName: aws.String(benchServiceName(i)),
			TaskDefinition: aws.String("web"), DesiredCount: aws.Int32(2),
		})
		return err
	})

	b.Run("mix", func(b *testing.B) {
		var seed atomic.Int64
		b.SetParallelism(benchWorkers / max(1, runtime.GOMAXPROCS(0)))
		start := time.Now()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			w := &benchWorker{client: client, rng: rand.New(rand.NewSource(seed.Add(1)))}
			for i := 0; pb.Next(); i++ {
				if err := w.call(ctx, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
		elapsed := time.Since(start)
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
	})
}

// benchWorker issues one call of the mix at a time; it keeps its place in
// a ListServices walk between calls.
type benchWorker struct {
	client  *ecs.Client
	rng     *rand.Rand
	cluster int
	token   *string
}

func (w *benchWorker) call(ctx context.Context, i int) error {
	switch i % 10 {
	case 0, 1, 2, 3, 4, 5:
		c := w.rng.Intn(benchClusters)
		names := make([]string, 10)
		for j := range names {
			names[j] = benchServiceName(c + benchClusters*w.rng.Intn(benchServices/benchClusters))
		}
		out, err := w.client.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String(benchClusterName(c)), Services: names,
		})
		if err == nil && len(out.Services) != len(names) {
			err = fmt.Errorf("described %d of %d services", len(out.Services), len(names))
		}
		return err
	case 6, 7:
		out, err := w.client.ListServices(ctx, &ecs.ListServicesInput{
			Cluster: aws.String(benchClusterName(w.cluster)), NextToken: w.token,
			MaxResults: aws.Int32(50),
		})
		if err != nil {
			return err
		}
		w.token = out.NextToken
		if w.token == nil {
			w.cluster = (w.cluster + 1) % benchClusters
		}
		return nil
	default:
		n := w.rng.Intn(benchServices)
		_, err := w.client.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster: aws.String(benchClusterName(n)), Service: aws.String(benchServiceName(n)),
			DesiredCount: aws.Int32(int32(1 + w.rng.Intn(3))),
		})
		return err
	}
}

// benchRunWorkers calls fn for 0..n-1 from benchWorkers goroutines.
func benchRunWorkers(b *testing.B, n int, fn func(i int) error) {
	b.Helper()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	require.Empty(b, errs)
}
