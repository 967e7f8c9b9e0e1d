import { InvokeCommand, ResourceNotFoundException, ServiceException, TooManyRequestsException, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { LambdaRegionInvoker, type InvokeClient } from '#shared/adapters/lambda/lambda-region-invoker.ts';
import { MissingConfigurationError } from '#shared/config/environment.ts';
import { FunctionNotInvokableError, invokeIn, InvokeInRequest, parseInvokableFunctions } from '#shared/operations/invoke-in.ts';
import { FunctionInvocationError, InvokedFunctionError, type RegionalFunctionInvoker } from '#shared/ports/function-invoker.ts';

/**
 * The `invoke-in` relay runs a workflow task's function in the region the execution names and answers as the
 * function would have answered Step Functions: its result unchanged, its error under its own name. The use case is
 * tested with an in-memory invoker, the Lambda adapter's error mapping with a stubbed client.
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const DRAIN_CHECK = 'rotor-prod-ops-drain-check';
const invokable = new Set([DRAIN_CHECK]);

/** Functions by region and name; each gets the payload and answers or throws. */
class InMemoryInvoker implements RegionalFunctionInvoker {
  readonly calls: { region: string; functionName: string; payload: unknown }[] = [];
  constructor(private readonly functions: Record<string, (payload: unknown) => unknown>) {}
  async invoke(region: string, functionName: string, payload: unknown): Promise<unknown> {
    this.calls.push({ region, functionName, payload });
    const fn = this.functions[`${region}/${functionName}`];
    if (!fn) throw new FunctionInvocationError('Lambda.ResourceNotFoundException', `${functionName} not in ${region}`, functionName, region, false);
    return fn(payload);
  }
}

describe('invokeIn', () => {
  it('passes the payload to the function of the named region and answers its result unchanged', async () => {
    // Prepare
    const result = { check: 'queues', app: 'trade-matching', region: 'us-west-2', drained: true, depths: { 'tm.trades': 0 } };
    const invoker = new InMemoryInvoker({ [`us-west-2/${DRAIN_CHECK}`]: () => result });
    const request = InvokeInRequest.parse({ region: 'us-west-2', functionName: DRAIN_CHECK, payload: { check: 'queues', app: 'trade-matching', runId: 'r1' } });

    // Act
    const answer = await invokeIn(request, { invoker, invokable });

    // Assess
    expect(answer).toEqual(result);
    expect(invoker.calls).toEqual([{ region: 'us-west-2', functionName: DRAIN_CHECK, payload: { check: 'queues', app: 'trade-matching', runId: 'r1' } }]);
  });

  it("surfaces the function's error with its own name and message", async () => {
    // Prepare
    const invoker = new InMemoryInvoker({
      [`us-east-1/${DRAIN_CHECK}`]: () => {
        throw new InvokedFunctionError('DrainNotCompleteError', 'tm.trades still holds 3 messages', DRAIN_CHECK, 'us-east-1');
      },
    });

    // Act
    const failure = await invokeIn({ region: 'us-east-1', functionName: DRAIN_CHECK, payload: {} }, { invoker, invokable }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ name: 'DrainNotCompleteError', message: 'tm.trades still holds 3 messages' });
  });

  it('refuses a function its allow-list does not name, without invoking anything', async () => {
    // Prepare
    const invoker = new InMemoryInvoker({});

    // Act
    const failure = invokeIn({ region: 'us-west-2', functionName: 'rotor-prod-ops-routing', payload: {} }, { invoker, invokable });

    // Assess
    await expect(failure).rejects.toThrow(FunctionNotInvokableError);
    await expect(failure).rejects.toMatchObject({ name: 'FunctionNotInvokableError', transient: false });
    expect(invoker.calls).toEqual([]);
  });

  it.each([
    ['a region that is no AWS region name', { region: 'west', functionName: DRAIN_CHECK, payload: {} }],
    ['a function that is no Rotor function name', { region: 'us-west-2', functionName: 'arn:aws:lambda:us-west-2:1:function:x', payload: {} }],
    ['an unknown field', { region: 'us-west-2', functionName: DRAIN_CHECK, payload: {}, invokeIn: 'us-west-2' }],
  ])('refuses %s by its schema', (_case, request) => {
    // Assess
    expect(() => InvokeInRequest.parse(request)).toThrow();
  });

  it('reads its allow-list from a JSON array of function names, and refuses anything else', () => {
    // Assess
    expect(parseInvokableFunctions(JSON.stringify([DRAIN_CHECK, 'rotor-prod-ops-report']))).toEqual(new Set([DRAIN_CHECK, 'rotor-prod-ops-report']));
    for (const bad of [undefined, 'not json', '{"a":1}', '["ops-report"]']) expect(() => parseInvokableFunctions(bad), String(bad)).toThrow(MissingConfigurationError);
  });
});

describe('LambdaRegionInvoker', () => {
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput['Payload'];
  /** A client per region whose `send` answers `respond`, recording each region and command it is given. */
  const stubbed = (respond: (command: InvokeCommand) => Promise<Partial<InvokeCommandOutput>>) => {
    const sent: { region: string; input: InvokeCommand['input'] }[] = [];
    const created: string[] = [];
    const invoker = new LambdaRegionInvoker({
      clientFor: (region): InvokeClient => {
        created.push(region);
        return { send: async (command) => (sent.push({ region, input: command.input }), { $metadata: {}, ...(await respond(command)) }) };
      },
    });
    return { invoker, sent, created };
  };

  it('invokes RequestResponse in the named region with one client per region, and parses the result', async () => {
    // Prepare
    const { invoker, sent, created } = stubbed(async () => ({ StatusCode: 200, Payload: encode({ drained: true }) }));

    // Act
    const answers = [await invoker.invoke('us-west-2', DRAIN_CHECK, { app: 'tm' }), await invoker.invoke('us-west-2', DRAIN_CHECK, {}), await invoker.invoke('us-east-1', DRAIN_CHECK, {})];

    // Assess
    expect(answers).toEqual([{ drained: true }, { drained: true }, { drained: true }]);
    expect(created).toEqual(['us-west-2', 'us-east-1']);
    expect(sent[0]).toMatchObject({ region: 'us-west-2', input: { FunctionName: DRAIN_CHECK, InvocationType: 'RequestResponse' } });
    expect(JSON.parse(new TextDecoder().decode(sent[0]!.input.Payload as Uint8Array))).toEqual({ app: 'tm' });
  });

  it("throws a FunctionError as the function's errorType and errorMessage", async () => {
    // Prepare
    const body = { errorType: 'RoutingControlsUnreachableError', errorMessage: 'no routing-control cluster endpoint answered', trace: ['RoutingControlsUnreachableError: no…', '    at x'] };
    const { invoker } = stubbed(async () => ({ StatusCode: 200, FunctionError: 'Unhandled', Payload: encode(body) }));

    // Act
    const failure = await invoker.invoke('us-west-2', DRAIN_CHECK, {}).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(InvokedFunctionError);
    expect(failure).toMatchObject({ name: body.errorType, message: body.errorMessage, region: 'us-west-2', functionName: DRAIN_CHECK });
  });

  it('names a FunctionError without errorType Lambda.Unknown', async () => {
    // Prepare
    const { invoker } = stubbed(async () => ({ StatusCode: 200, FunctionError: 'Unhandled', Payload: encode({ errorMessage: 'Runtime exited with error: signal: killed' }) }));

    // Assess
    await expect(invoker.invoke('us-west-2', DRAIN_CHECK, {})).rejects.toMatchObject({ name: 'Lambda.Unknown', message: 'Runtime exited with error: signal: killed' });
  });

  it.each([
    ['throttling', () => new TooManyRequestsException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 429 } }), 'Lambda.TooManyRequestsException', true],
    ["Lambda's own failure", () => new ServiceException({ message: 'internal', $metadata: { httpStatusCode: 500 } }), 'Lambda.ServiceException', true],
    ['an unreachable region', () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'Lambda.SdkClientException', true],
    ['a function that does not exist', () => new ResourceNotFoundException({ message: 'Function not found', $metadata: { httpStatusCode: 404 } }), 'Lambda.ResourceNotFoundException', false],
  ])('names %s as Step Functions does', async (_case, error, name, transient) => {
    // Prepare
    const { invoker } = stubbed(async () => {
      throw error();
    });

    // Act
    const failure = await invoker.invoke('us-west-2', DRAIN_CHECK, {}).catch((thrown: unknown) => thrown);

    // Assess
    expect(failure).toBeInstanceOf(FunctionInvocationError);
    expect(failure).toMatchObject({ name, transient });
  });
});
