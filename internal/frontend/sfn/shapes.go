package sfn

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// Timestamp is a model timestamp: epoch seconds with milliseconds as a JSON number, the AWS JSON
// protocol's default format.
type Timestamp struct{ time.Time }

// MarshalJSON writes epoch seconds with three decimals.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return fmt.Appendf(nil, "%s%d.%03d", sign, ms/1000, ms%1000), nil
}

// UnmarshalJSON reads epoch seconds (integer or fractional).
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	t.Time = time.UnixMilli(int64(f * 1000)).UTC()
	return nil
}

// TS returns a pointer to t as a [Timestamp], for optional timestamp members.
func TS(t time.Time) *Timestamp { return &Timestamp{t} }

// Tag is the model's Tag.
type Tag struct {
	Key   string `json:"key,omitempty"`
	Value string `json:"value,omitempty"`
}

// LoggingConfiguration is the model's LoggingConfiguration.
type LoggingConfiguration struct {
	Level                string           `json:"level,omitempty"`
	IncludeExecutionData *bool            `json:"includeExecutionData,omitempty"`
	Destinations         []LogDestination `json:"destinations,omitempty"`
}

// LogDestination is the model's LogDestination.
type LogDestination struct {
	CloudWatchLogsLogGroup *CloudWatchLogsLogGroup `json:"cloudWatchLogsLogGroup,omitempty"`
}

// CloudWatchLogsLogGroup is the model's CloudWatchLogsLogGroup.
type CloudWatchLogsLogGroup struct {
	LogGroupArn string `json:"logGroupArn,omitempty"`
}

// TracingConfiguration is the model's TracingConfiguration.
type TracingConfiguration struct {
	Enabled *bool `json:"enabled,omitempty"`
}

// EncryptionConfiguration is the model's EncryptionConfiguration.
type EncryptionConfiguration struct {
	KmsKeyID                     string `json:"kmsKeyId,omitempty"`
	KmsDataKeyReusePeriodSeconds *int64 `json:"kmsDataKeyReusePeriodSeconds,omitempty"`
	Type                         string `json:"type,omitempty"`
}

// CreateStateMachineInput is the model's CreateStateMachineInput.
type CreateStateMachineInput struct {
	Name                    string                   `json:"name,omitempty"`
	Definition              string                   `json:"definition,omitempty"`
	RoleArn                 string                   `json:"roleArn,omitempty"`
	Type                    string                   `json:"type,omitempty"`
	LoggingConfiguration    *LoggingConfiguration    `json:"loggingConfiguration,omitempty"`
	Tags                    []Tag                    `json:"tags,omitempty"`
	TracingConfiguration    *TracingConfiguration    `json:"tracingConfiguration,omitempty"`
	Publish                 bool                     `json:"publish,omitempty"`
	VersionDescription      *string                  `json:"versionDescription,omitempty"`
	EncryptionConfiguration *EncryptionConfiguration `json:"encryptionConfiguration,omitempty"`
}

// CreateStateMachineOutput is the model's CreateStateMachineOutput.
type CreateStateMachineOutput struct {
	StateMachineArn        string    `json:"stateMachineArn"`
	CreationDate           Timestamp `json:"creationDate"`
	StateMachineVersionArn string    `json:"stateMachineVersionArn,omitempty"`
}

// DescribeStateMachineInput is the model's DescribeStateMachineInput.
type DescribeStateMachineInput struct {
	StateMachineArn string `json:"stateMachineArn,omitempty"`
	IncludedData    string `json:"includedData,omitempty"`
}

// DescribeStateMachineOutput is the model's DescribeStateMachineOutput.
type DescribeStateMachineOutput struct {
	StateMachineArn         string                   `json:"stateMachineArn"`
	Name                    string                   `json:"name"`
	Status                  string                   `json:"status,omitempty"`
	Definition              string                   `json:"definition"`
	RoleArn                 string                   `json:"roleArn"`
	Type                    string                   `json:"type"`
	CreationDate            Timestamp                `json:"creationDate"`
	LoggingConfiguration    *LoggingConfiguration    `json:"loggingConfiguration,omitempty"`
	TracingConfiguration    *TracingConfiguration    `json:"tracingConfiguration,omitempty"`
	Label                   string                   `json:"label,omitempty"`
	RevisionID              string                   `json:"revisionId,omitempty"`
	Description             string                   `json:"description,omitempty"`
	EncryptionConfiguration *EncryptionConfiguration `json:"encryptionConfiguration,omitempty"`
	VariableReferences      map[string][]string      `json:"variableReferences,omitempty"`
}

// UpdateStateMachineInput is the model's UpdateStateMachineInput.
type UpdateStateMachineInput struct {
	StateMachineArn         string                   `json:"stateMachineArn,omitempty"`
	Definition              *string                  `json:"definition,omitempty"`
	RoleArn                 *string                  `json:"roleArn,omitempty"`
	LoggingConfiguration    *LoggingConfiguration    `json:"loggingConfiguration,omitempty"`
	TracingConfiguration    *TracingConfiguration    `json:"tracingConfiguration,omitempty"`
	Publish                 bool                     `json:"publish,omitempty"`
	VersionDescription      *string                  `json:"versionDescription,omitempty"`
	EncryptionConfiguration *EncryptionConfiguration `json:"encryptionConfiguration,omitempty"`
}

// UpdateStateMachineOutput is the model's UpdateStateMachineOutput.
type UpdateStateMachineOutput struct {
	UpdateDate             Timestamp `json:"updateDate"`
	RevisionID             string    `json:"revisionId,omitempty"`
	StateMachineVersionArn string    `json:"stateMachineVersionArn,omitempty"`
}

// ARNInput is the input of the actions whose only member is one ARN: DeleteStateMachine
// (stateMachineArn), DescribeActivity and DeleteActivity (activityArn), ListTagsForResource
// (resourceArn).
type ARNInput struct {
	StateMachineArn string `json:"stateMachineArn,omitempty"`
	ActivityArn     string `json:"activityArn,omitempty"`
	ResourceArn     string `json:"resourceArn,omitempty"`
}

// Empty is the model's empty outputs (DeleteStateMachineOutput, TagResourceOutput, ...): {}.
type Empty struct{}

// ListInput is ListStateMachinesInput and ListActivitiesInput.
type ListInput struct {
	MaxResults int64  `json:"maxResults,omitempty"`
	NextToken  string `json:"nextToken,omitempty"`
}

// StateMachineListItem is the model's StateMachineListItem.
type StateMachineListItem struct {
	StateMachineArn string    `json:"stateMachineArn"`
	Name            string    `json:"name"`
	Type            string    `json:"type"`
	CreationDate    Timestamp `json:"creationDate"`
}

// ListStateMachinesOutput is the model's ListStateMachinesOutput.
type ListStateMachinesOutput struct {
	StateMachines []StateMachineListItem `json:"stateMachines"`
	NextToken     string                 `json:"nextToken,omitempty"`
}

// ValidateStateMachineDefinitionInput is the model's ValidateStateMachineDefinitionInput.
type ValidateStateMachineDefinitionInput struct {
	Definition string `json:"definition,omitempty"`
	Type       string `json:"type,omitempty"`
	Severity   string `json:"severity,omitempty"`
	MaxResults int64  `json:"maxResults,omitempty"`
}

// ValidateStateMachineDefinitionDiagnostic is the model's diagnostic.
type ValidateStateMachineDefinitionDiagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

// ValidateStateMachineDefinitionOutput is the model's ValidateStateMachineDefinitionOutput.
type ValidateStateMachineDefinitionOutput struct {
	Result      string                                     `json:"result"`
	Diagnostics []ValidateStateMachineDefinitionDiagnostic `json:"diagnostics"`
	Truncated   *bool                                      `json:"truncated,omitempty"`
}

// ExecutionArnInput is DescribeExecutionInput and DescribeStateMachineForExecutionInput.
type ExecutionArnInput struct {
	ExecutionArn string `json:"executionArn,omitempty"`
	IncludedData string `json:"includedData,omitempty"`
}

// DescribeStateMachineForExecutionOutput is the model's DescribeStateMachineForExecutionOutput.
type DescribeStateMachineForExecutionOutput struct {
	StateMachineArn         string                   `json:"stateMachineArn"`
	Name                    string                   `json:"name"`
	Definition              string                   `json:"definition"`
	RoleArn                 string                   `json:"roleArn"`
	UpdateDate              Timestamp                `json:"updateDate"`
	LoggingConfiguration    *LoggingConfiguration    `json:"loggingConfiguration,omitempty"`
	TracingConfiguration    *TracingConfiguration    `json:"tracingConfiguration,omitempty"`
	MapRunArn               string                   `json:"mapRunArn,omitempty"`
	Label                   string                   `json:"label,omitempty"`
	RevisionID              string                   `json:"revisionId,omitempty"`
	EncryptionConfiguration *EncryptionConfiguration `json:"encryptionConfiguration,omitempty"`
	VariableReferences      map[string][]string      `json:"variableReferences,omitempty"`
}

// TagResourceInput is the model's TagResourceInput.
type TagResourceInput struct {
	ResourceArn string `json:"resourceArn,omitempty"`
	Tags        []Tag  `json:"tags,omitempty"`
}

// UntagResourceInput is the model's UntagResourceInput.
type UntagResourceInput struct {
	ResourceArn string   `json:"resourceArn,omitempty"`
	TagKeys     []string `json:"tagKeys,omitempty"`
}

// ListTagsForResourceOutput is the model's ListTagsForResourceOutput.
type ListTagsForResourceOutput struct {
	Tags []Tag `json:"tags,omitempty"`
}

// StartExecutionInput is the model's StartExecutionInput.
type StartExecutionInput struct {
	StateMachineArn string  `json:"stateMachineArn,omitempty"`
	Name            string  `json:"name,omitempty"`
	Input           *string `json:"input,omitempty"`
	TraceHeader     string  `json:"traceHeader,omitempty"`
}

// StartExecutionOutput is the model's StartExecutionOutput.
type StartExecutionOutput struct {
	ExecutionArn string    `json:"executionArn"`
	StartDate    Timestamp `json:"startDate"`
}

// DataDetails is CloudWatchEventsExecutionDataDetails ({included}) and
// HistoryEventExecutionDataDetails ({truncated}).
type DataDetails struct {
	Included  *bool `json:"included,omitempty"`
	Truncated *bool `json:"truncated,omitempty"`
}

// DescribeExecutionOutput is the model's DescribeExecutionOutput.
type DescribeExecutionOutput struct {
	ExecutionArn           string       `json:"executionArn"`
	StateMachineArn        string       `json:"stateMachineArn"`
	Name                   string       `json:"name,omitempty"`
	Status                 string       `json:"status"`
	StartDate              Timestamp    `json:"startDate"`
	StopDate               *Timestamp   `json:"stopDate,omitempty"`
	Input                  *string      `json:"input,omitempty"`
	InputDetails           *DataDetails `json:"inputDetails,omitempty"`
	Output                 *string      `json:"output,omitempty"`
	OutputDetails          *DataDetails `json:"outputDetails,omitempty"`
	TraceHeader            string       `json:"traceHeader,omitempty"`
	MapRunArn              string       `json:"mapRunArn,omitempty"`
	Error                  *string      `json:"error,omitempty"`
	Cause                  *string      `json:"cause,omitempty"`
	StateMachineVersionArn string       `json:"stateMachineVersionArn,omitempty"`
	StateMachineAliasArn   string       `json:"stateMachineAliasArn,omitempty"`
	RedriveCount           *int64       `json:"redriveCount,omitempty"`
	RedriveDate            *Timestamp   `json:"redriveDate,omitempty"`
	RedriveStatus          string       `json:"redriveStatus,omitempty"`
	RedriveStatusReason    string       `json:"redriveStatusReason,omitempty"`
}

// StopExecutionInput is the model's StopExecutionInput.
type StopExecutionInput struct {
	ExecutionArn string  `json:"executionArn,omitempty"`
	Error        *string `json:"error,omitempty"`
	Cause        *string `json:"cause,omitempty"`
}

// StopExecutionOutput is the model's StopExecutionOutput.
type StopExecutionOutput struct {
	StopDate Timestamp `json:"stopDate"`
}

// ListExecutionsInput is the model's ListExecutionsInput.
type ListExecutionsInput struct {
	StateMachineArn string `json:"stateMachineArn,omitempty"`
	StatusFilter    string `json:"statusFilter,omitempty"`
	MaxResults      int64  `json:"maxResults,omitempty"`
	NextToken       string `json:"nextToken,omitempty"`
	MapRunArn       string `json:"mapRunArn,omitempty"`
	RedriveFilter   string `json:"redriveFilter,omitempty"`
}

// ExecutionListItem is the model's ExecutionListItem.
type ExecutionListItem struct {
	ExecutionArn           string     `json:"executionArn"`
	StateMachineArn        string     `json:"stateMachineArn"`
	Name                   string     `json:"name"`
	Status                 string     `json:"status"`
	StartDate              Timestamp  `json:"startDate"`
	StopDate               *Timestamp `json:"stopDate,omitempty"`
	MapRunArn              string     `json:"mapRunArn,omitempty"`
	ItemCount              *int64     `json:"itemCount,omitempty"`
	StateMachineVersionArn string     `json:"stateMachineVersionArn,omitempty"`
	StateMachineAliasArn   string     `json:"stateMachineAliasArn,omitempty"`
	RedriveCount           *int64     `json:"redriveCount,omitempty"`
	RedriveDate            *Timestamp `json:"redriveDate,omitempty"`
}

// ListExecutionsOutput is the model's ListExecutionsOutput.
type ListExecutionsOutput struct {
	Executions []ExecutionListItem `json:"executions"`
	NextToken  string              `json:"nextToken,omitempty"`
}

// GetExecutionHistoryInput is the model's GetExecutionHistoryInput.
type GetExecutionHistoryInput struct {
	ExecutionArn         string `json:"executionArn,omitempty"`
	MaxResults           int64  `json:"maxResults,omitempty"`
	ReverseOrder         bool   `json:"reverseOrder,omitempty"`
	NextToken            string `json:"nextToken,omitempty"`
	IncludeExecutionData *bool  `json:"includeExecutionData,omitempty"`
}

// GetExecutionHistoryOutput is the model's GetExecutionHistoryOutput. Events are raw JSON objects
// in the model's HistoryEvent shape ({timestamp, type, id, previousEventId, <type>EventDetails}),
// as the ASL interpreter's events already render them.
type GetExecutionHistoryOutput struct {
	Events    []RawJSON `json:"events"`
	NextToken string    `json:"nextToken,omitempty"`
}

// RawJSON is a JSON value written as is. It must hold one valid JSON object.
type RawJSON []byte

// MarshalJSON returns the raw value.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("{}"), nil
	}
	return r, nil
}

// CreateActivityInput is the model's CreateActivityInput.
type CreateActivityInput struct {
	Name                    string                   `json:"name,omitempty"`
	Tags                    []Tag                    `json:"tags,omitempty"`
	EncryptionConfiguration *EncryptionConfiguration `json:"encryptionConfiguration,omitempty"`
}

// CreateActivityOutput is the model's CreateActivityOutput.
type CreateActivityOutput struct {
	ActivityArn  string    `json:"activityArn"`
	CreationDate Timestamp `json:"creationDate"`
}

// DescribeActivityOutput is the model's DescribeActivityOutput.
type DescribeActivityOutput struct {
	ActivityArn             string                   `json:"activityArn"`
	Name                    string                   `json:"name"`
	CreationDate            Timestamp                `json:"creationDate"`
	EncryptionConfiguration *EncryptionConfiguration `json:"encryptionConfiguration,omitempty"`
}

// ActivityListItem is the model's ActivityListItem.
type ActivityListItem struct {
	ActivityArn  string    `json:"activityArn"`
	Name         string    `json:"name"`
	CreationDate Timestamp `json:"creationDate"`
}

// ListActivitiesOutput is the model's ListActivitiesOutput.
type ListActivitiesOutput struct {
	Activities []ActivityListItem `json:"activities"`
	NextToken  string             `json:"nextToken,omitempty"`
}

// GetActivityTaskInput is the model's GetActivityTaskInput.
type GetActivityTaskInput struct {
	ActivityArn string `json:"activityArn,omitempty"`
	WorkerName  string `json:"workerName,omitempty"`
}

// GetActivityTaskOutput is the model's GetActivityTaskOutput; both members are absent when the
// poll ends without a task.
type GetActivityTaskOutput struct {
	TaskToken string  `json:"taskToken,omitempty"`
	Input     *string `json:"input,omitempty"`
}

// SendTaskInput is SendTaskSuccessInput (taskToken, output), SendTaskFailureInput (taskToken,
// error, cause) and SendTaskHeartbeatInput (taskToken).
type SendTaskInput struct {
	TaskToken string  `json:"taskToken,omitempty"`
	Output    *string `json:"output,omitempty"`
	Error     *string `json:"error,omitempty"`
	Cause     *string `json:"cause,omitempty"`
}
