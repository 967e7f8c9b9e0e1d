import type { StagePlan } from './plan/index.ts';

/** CloudWatch alarms of the region (stacks/plan/alarms.ts), all notifying one SNS topic operators subscribe to. */
export function createAlarms(plan: StagePlan) {
  const topic = new aws.sns.Topic('Alarms', { name: `rotor-${plan.context.environment}-alarms` });
  for (const alarm of plan.alarms) {
    new aws.cloudwatch.MetricAlarm(alarm.name, {
      name: alarm.name,
      alarmDescription: alarm.description,
      namespace: alarm.namespace,
      metricName: alarm.metricName,
      dimensions: { ...alarm.dimensions },
      statistic: alarm.statistic,
      threshold: alarm.threshold,
      comparisonOperator: 'GreaterThanThreshold',
      period: alarm.periodSeconds,
      evaluationPeriods: alarm.evaluationPeriods,
      treatMissingData: alarm.treatMissingData,
      alarmActions: [topic.arn],
      okActions: [topic.arn],
    });
  }
  return topic;
}
