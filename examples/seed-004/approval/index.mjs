// Approval receiver (seeds 000 and 004): opened through its function URL with
// ?taskToken=...&result=approve|reject, it resumes the waiting execution with the AWS SDK for
// JavaScript v3. On Baton, the SDK reaches Baton through AWS_ENDPOINT_URL, which every worker
// gets; credentials and region come from the environment as on AWS.
import { SFNClient, SendTaskSuccessCommand, SendTaskFailureCommand } from '@aws-sdk/client-sfn';

const sfn = new SFNClient({});

export const handler = async (event) => {
  const { taskToken, result } = event.queryStringParameters ?? {};
  if (!taskToken || !['approve', 'reject'].includes(result)) {
    return { statusCode: 400, headers: { 'content-type': 'text/plain' }, body: 'taskToken and result=approve|reject are required' };
  }
  if (result === 'approve') {
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify({ approved: true }) }));
  } else {
    await sfn.send(new SendTaskFailureCommand({ taskToken, error: 'Rejected', cause: 'The store owner rejected the shipment' }));
  }
  console.log('Decision recorded:', result);
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/html' },
    body: `<h1>Shipment ${result === 'approve' ? 'approved' : 'rejected'}</h1>`,
  };
};
