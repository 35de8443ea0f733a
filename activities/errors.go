package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"
	"go.temporal.io/sdk/temporal"
)

// Error types of the ApplicationErrors the activities return. The
// workflows and people read them; the retryable ones are retried with
// backoff, the others fail the step at once.
const (
	// ErrThrottled: AWS refused the call for its rate. Retryable.
	ErrThrottled = "Throttled"
	// ErrUnavailable: AWS failed (5xx) or could not be reached. Retryable.
	ErrUnavailable = "Unavailable"
	// ErrAWS: an error AWS gave that no rule below knows. Retryable,
	// since a retry costs little and a step that fails at once needs a
	// person.
	ErrAWS = "AWSError"
	// ErrAccessDenied: the worker's credentials lack a permission.
	ErrAccessDenied = "AccessDenied"
	// ErrNotFound: a resource the topology names does not exist.
	ErrNotFound = "NotFound"
	// ErrInvalid: AWS rejected the request, or an input is wrong.
	ErrInvalid = "Invalid"
	// ErrInvalidState: a resource is in a state that waiting will not
	// change, such as a replica of the wrong source.
	ErrInvalidState = "InvalidState"
	// ErrPromotionFailed: a promotion ended without making the target
	// the writer.
	ErrPromotionFailed = "PromotionFailed"
)

// Error codes by the class they fall in. Codes AWS spells as
// <Name>Fault in its models arrive here without the suffix for some
// services and with it for others, so both are listed where it matters.
var (
	accessDeniedCodes = codeSet(
		"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
		"UnrecognizedClientException", "InvalidClientTokenId",
		"MissingAuthenticationToken", "SignatureDoesNotMatch",
		"AuthFailure", "ExpiredToken", "ExpiredTokenException",
		"NotAuthorized", "IncompleteSignature",
	)
	invalidCodes = codeSet(
		"ValidationError", "ValidationException", "MissingParameter",
		"InvalidInput", "InvalidChangeBatch", "InvalidArgument",
		"InvalidAction", "ClientException", "InvalidDomainName",
		"InvalidRequestException", "MalformedQueryString",
	)
	// invalidStateCodes reach the activity only after it waited for the
	// state the call needs, so they mean waiting did not help.
	invalidStateCodes = codeSet(
		"InvalidDBInstanceState", "InvalidDBInstanceStateFault",
		"InvalidDBClusterStateFault", "InvalidDBClusterState",
		"InvalidGlobalClusterStateFault", "InvalidGlobalClusterState",
		"DBInstanceAlreadyExists", "DBInstanceAlreadyExistsFault",
		"ServiceNotActiveException", "PlatformUnknownException",
		"UnsupportedFeatureException", "IncompatibleState",
	)
)

func codeSet(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

// errorClass is the class an AWS error falls in.
func errorClass(err error) string {
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
		return ErrThrottled
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) && status.HTTPStatusCode() >= 500 {
		return ErrUnavailable
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		// No AWS answer at all: a refused or reset connection, a
		// timeout, a broken response.
		return ErrUnavailable
	}
	code := api.ErrorCode()
	switch {
	case accessDeniedCodes[code]:
		return ErrAccessDenied
	case invalidStateCodes[code]:
		return ErrInvalidState
	case invalidCodes[code], strings.HasPrefix(code, "InvalidParameter"):
		return ErrInvalid
	case isNotFoundCode(code):
		return ErrNotFound
	case api.ErrorFault() == smithy.FaultServer:
		return ErrUnavailable
	}
	return ErrAWS
}

// isNotFoundCode knows the not-found codes of ECS (ClusterNotFound-
// Exception), RDS (DBInstanceNotFound, DBClusterNotFoundFault,
// GlobalClusterNotFoundFault) and Route 53 (NoSuchHostedZone,
// NoSuchHealthCheck) by their shape.
func isNotFoundCode(code string) bool {
	if strings.HasPrefix(code, "NoSuch") {
		return true
	}
	for _, suffix := range []string{"NotFound", "NotFoundException", "NotFoundFault"} {
		if strings.HasSuffix(code, suffix) {
			return true
		}
	}
	return false
}

// advice says what to do about an error of a non-retryable class.
var advice = map[string]string{
	ErrAccessDenied: "grant the worker's AWS role permission for this call",
	ErrNotFound: "check that the topology names it correctly and that it " +
		"exists in this region",
	ErrInvalid:      "AWS rejected the request as invalid; correct the topology or the input",
	ErrInvalidState: "its state does not allow this; inspect it in the AWS console",
}

// awsError classifies an error of an AWS call, once, for every activity.
// what says what was being done ("describe DB instance db-1"). A context
// error comes back unchanged, so that an activity that ran out of time
// says so; throttling, 5xx and unreachable endpoints come back retryable;
// access denied, validation, not-found and state errors come back
// non-retryable with a message that says what to fix.
func (r *Region) awsError(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return err
	}
	class := errorClass(err)
	msg := fmt.Sprintf("%s in %s: %s", what, r.cfg.Region, apiMessage(err))
	if a, ok := advice[class]; ok {
		return temporal.NewNonRetryableApplicationError(msg+"; "+a, class, err)
	}
	return temporal.NewApplicationErrorWithCause(msg, class, err)
}

// apiMessage is the code and message AWS gave, or the error's text when
// AWS gave none. Neither ever holds credentials: the SDK signs requests
// but does not echo keys into errors.
func apiMessage(err error) string {
	// Route 53 gives the reasons a batch was refused as a list beside a
	// general message; the list is what says which record to fix.
	var batch *r53types.InvalidChangeBatch
	if errors.As(err, &batch) && len(batch.Messages) > 0 {
		return batch.ErrorCode() + ": " + strings.Join(batch.Messages, "; ")
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		if m := api.ErrorMessage(); m != "" {
			return api.ErrorCode() + ": " + m
		}
		return api.ErrorCode()
	}
	return err.Error()
}

// hasCode reports whether err is an AWS error with one of codes.
func hasCode(err error, codes ...string) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	for _, c := range codes {
		if api.ErrorCode() == c {
			return true
		}
	}
	return false
}

// nonRetryable makes an error the activity found itself, with a message
// that says what to fix.
func nonRetryable(kind, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), kind, nil)
}

// isRetryable reports whether a classified error is worth another try.
func isRetryable(err error) bool {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return !app.NonRetryable()
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// applicationType returns the type of a classified error.
func applicationType(err error) (string, bool) {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type(), true
	}
	return "", false
}
