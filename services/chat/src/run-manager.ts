// Runs: one per SendMessage or RegenerateMessage, owned by this service rather than by the call that started it.
// A run asks the model, numbers its output into the run log, and leaves the answer in PostgreSQL.
import { randomUUID } from 'node:crypto';
import { Channel, FinishReason as InferenceFinish, Role, type GenerateRequest } from '@freechat/proto/freechat/inference/v1/inference';
import { setSpanAttributes, startSpan, withContext, type Logger } from '@freechat/shared';
import type { ChatConfig } from './config.js';
import { FailedPreconditionError, LimitExceededError, NotFoundError, promptTooLongMessage, RUN_ERRORS, UnavailableError, type RunErrorCode } from './errors.js';
import { InferenceCallError, type InferenceGateway } from './inference-client.js';
import { MessageWriter, type MessageStore as MessageWriterStore } from './message-writer.js';
import type { AnswerTimings, FinalState, MessageRow, MessagesRepository, RunRefusal } from './messages-repository.js';
import { historyIsEnough, maxUsefulContentBytes, planPrompt, type PromptPlan } from './prompt-plan.js';
import { DeltaBatcher } from './delta-batcher.js';
import { contentDelta, FinishReason, isTerminal, reasoningDelta, runDone, runError, runStarted, type RunEvent, type RunEventBody } from './run-events.js';
import type { RunControl, StopReason, StopTarget } from './run-control.js';
import { RunEndedError, type RunLog } from './run-log.js';
import { storedRunEvents } from './stored-run-events.js';
import { autoTitle, validateMaxNewTokens, type GenerationParamsInput } from './validation.js';
import type { ModelLimits } from './model-limits.js';
import { nsToTimestamp } from '@freechat/shared';
import type { ChatMetrics, RunOutcome } from './metrics.js';

/** What every run is started with, whichever way its user message came. */
export interface RunRequest {
  readonly ownerId: string;
  readonly sessionId: string;
  readonly enableThinking?: boolean | undefined;
  readonly params?: GenerationParamsInput | undefined;
}

export interface StartRunInput extends RunRequest {
  readonly content: string;
}

export interface ContinueRunInput extends RunRequest {
  /** The answer the token limit cut, to go on with. */
  readonly messageId: string;
}

export interface RegenerateRunInput extends RunRequest {
  /** The user message to answer again, or an answer to replace; undefined: the branch's last question. */
  readonly messageId?: string | undefined;
  /** The question's new text (it is edited as a sibling); undefined keeps it as it is. */
  readonly content?: string | undefined;
}

/**
 * An attached reader: the events after its seq, and whether any can come at all; `stored`: the log
 * is gone and the events are rebuilt from the stored answer (`storedRunEvents`), all at once.
 */
export interface AttachedRun {
  readonly state: 'streaming' | 'nothing_left' | 'stored';
  readonly events: AsyncIterable<RunEvent>;
}

export interface StartedRun {
  readonly runId: string;
  readonly userMessage: MessageRow;
  readonly assistantMessage: MessageRow;
}

export interface RunManagerOptions {
  readonly messages: MessagesRepository;
  readonly runLog: RunLog;
  readonly control: RunControl;
  readonly inference: InferenceGateway;
  /** The model's max_new_tokens limit, checked before a run's rows are written. */
  readonly modelLimits: Pick<ModelLimits, 'maxNewTokens'>;
  readonly runs: ChatConfig['runs'];
  readonly logger: Logger;
  /** Runs, persistence and stream hop metrics (metrics.ts); none in tests that do not look. */
  readonly metrics?: ChatMetrics;
}

interface ActiveRun {
  readonly runId: string;
  readonly sessionId: string;
  readonly userMessageId: string;
  readonly assistantMessageId: string;
  readonly input: RunRequest;
  /** Continue: the answer as it was when this run took it up (its text, tokens and timings go on). */
  readonly continues: MessageRow | undefined;
  readonly controller: AbortController;
  /** Set when something outside the model ended the run; `ended_elsewhere`: a reader closed it as orphaned. */
  stopReason: StopReason | 'ended_elsewhere' | undefined;
  finished: Promise<void>;
}

/** How the model's part ended, before it is turned into a stored status and a terminal event. */
type Outcome =
  | { readonly kind: 'finished'; readonly finishReason: 'stop' | 'length' | 'cancelled'; readonly promptTokens: number; readonly completionTokens: number }
  | { readonly kind: 'stopped'; readonly completionTokens: number }
  | { readonly kind: 'failed'; readonly code: RunErrorCode; readonly completionTokens: number; readonly message?: string };

const FINISH_FROM_INFERENCE: ReadonlyMap<InferenceFinish, 'stop' | 'length' | 'cancelled'> = new Map([
  [InferenceFinish.FINISH_REASON_STOP, 'stop'],
  [InferenceFinish.FINISH_REASON_LENGTH, 'length'],
  [InferenceFinish.FINISH_REASON_CANCELLED, 'cancelled'],
]);

const FAILURE_CODES: Record<InferenceCallError['kind'], RunErrorCode> = {
  unavailable: 'inference_unavailable',
  prompt_too_long: 'prompt_too_long',
  invalid_argument: 'invalid_argument',
  cancelled: 'inference_error',
  error: 'inference_error',
};

export class RunManager {
  private readonly active = new Map<string, ActiveRun>();
  private accepting = true;

  constructor(private readonly options: RunManagerOptions) {
    options.control.onStop((target, reason) => this.stopLocal(target, reason));
  }

  /**
   * Commits the user message and the streaming assistant row in one transaction, logs the run's
   * first event, then lets the run go on its own. NotFoundError if the session is not the user's;
   * FailedPreconditionError `run_in_progress` while an answer streams in the session;
   * LimitExceededError `too_many_runs` when the user already has `runs.maxRunningPerUser` running.
   */
  async start(input: StartRunInput): Promise<StartedRun> {
    this.requireAccepting();
    await this.checkModelLimits(input);
    const runId = randomUUID();
    const persistStarted = performance.now();
    const turn = await this.options.messages.startTurn({
      ownerId: input.ownerId,
      sessionId: input.sessionId,
      userMessageId: randomUUID(),
      content: input.content,
      autoTitle: autoTitle(input.content),
      assistant: { id: randomUUID(), runId },
      maxRunningPerUser: this.options.runs.maxRunningPerUser,
    });
    this.options.metrics?.messagePersistSeconds.observe({ operation: 'start' }, (performance.now() - persistStarted) / 1000);
    if (turn.kind !== 'started') throw refusal(turn);
    return this.launch(input, runId, turn.userMessage, turn.assistantMessage);
  }

  /**
   * Answers a user message again (by default the current branch's last; edited first, as a sibling,
   * when `content` is set) with a new answer beside the earlier ones, then runs exactly like `start`,
   * with the same refusals, NotFoundError `message` for a message not in the session, and
   * FailedPreconditionError `nothing_to_regenerate` when there is nothing to answer.
   */
  async regenerate(input: RegenerateRunInput): Promise<StartedRun> {
    this.requireAccepting();
    await this.checkModelLimits(input);
    const runId = randomUUID();
    const persistStarted = performance.now();
    const prepared = await this.options.messages.prepareRegeneration({
      ownerId: input.ownerId,
      sessionId: input.sessionId,
      messageId: input.messageId,
      content: input.content,
      userMessageId: randomUUID(),
      assistant: { id: randomUUID(), runId },
      maxRunningPerUser: this.options.runs.maxRunningPerUser,
    });
    this.options.metrics?.messagePersistSeconds.observe({ operation: 'start' }, (performance.now() - persistStarted) / 1000);
    if (prepared.kind !== 'prepared') throw refusal(prepared);
    this.options.logger.info({ runId, sessionId: input.sessionId, edited: input.content !== undefined, question: prepared.userMessage.id }, 'regenerating');
    return this.launch(input, runId, prepared.userMessage, prepared.assistantMessage);
  }

  /**
   * Goes on writing an answer the token limit cut (`prepareContinuation`): a new run on the same
   * message, whose log starts with the answer so far. Refused like `start`, and with
   * FailedPreconditionError `not_continuable` or NotFoundError `message`.
   */
  async continueAnswer(input: ContinueRunInput): Promise<StartedRun> {
    this.requireAccepting();
    await this.checkModelLimits(input);
    const runId = randomUUID();
    const prepared = await this.options.messages.prepareContinuation({
      ownerId: input.ownerId,
      sessionId: input.sessionId,
      messageId: input.messageId,
      runId,
      maxRunningPerUser: this.options.runs.maxRunningPerUser,
    });
    if (prepared.kind !== 'prepared') throw refusal(prepared);
    this.options.logger.info({ runId, sessionId: input.sessionId, answer: input.messageId }, 'continuing an answer');
    return this.launch(input, runId, prepared.userMessage, prepared.assistantMessage, prepared.assistantMessage);
  }

  /** InvalidArgumentError `params.max_new_tokens` above the model's limit (asked only when it is set). */
  private async checkModelLimits(input: RunRequest): Promise<void> {
    const requested = input.params?.maxNewTokens;
    if (requested !== undefined) validateMaxNewTokens(requested, await this.options.modelLimits.maxNewTokens());
  }

  /** The one way a run starts once its rows exist: register it, log RunStarted, let it go on its own. */
  private async launch(input: RunRequest, runId: string, userMessage: MessageRow, assistantMessage: MessageRow, continues?: MessageRow): Promise<StartedRun> {
    const run: ActiveRun = {
      runId,
      sessionId: input.sessionId,
      userMessageId: userMessage.id,
      assistantMessageId: assistantMessage.id,
      input,
      continues,
      controller: new AbortController(),
      stopReason: undefined,
      finished: Promise.resolve(),
    };
    // Registered before the first await, so a stop or a session delete from now on reaches it.
    this.active.set(runId, run);
    const { runLog, control } = this.options;
    // The run outlives the call that started it: its own span, a child of that call's, ended with the run.
    const span = startSpan('chat.run', { attributes: { 'freechat.run.id': runId, 'freechat.session.id': input.sessionId } });
    const first = control.claim(runId).then(async () => {
      await runLog.append(runId, runStarted(runId, userMessage.id, assistantMessage.id));
      // A continued answer's readers rebuild the whole message from the run alone, like any other.
      if (continues?.reasoning) await runLog.append(runId, reasoningDelta(continues.reasoning));
      if (continues?.content) await runLog.append(runId, contentDelta(continues.content));
    });
    run.finished = first
      .then(() => withContext(span.context, () => this.execute(run)), () => {})
      .catch((error: unknown) => this.options.logger.error({ err: error, runId }, 'run could not be concluded'))
      .finally(() => {
        span.end();
        this.active.delete(runId);
        return control.release(runId);
      });
    // The caller subscribes from seq 1, which must exist by then.
    try {
      await first;
    } catch (error) {
      // No live stream can be offered (the run log is away): refuse now, with the question kept and
      // the answer row closed, rather than answer into a log nobody can read.
      span.end(error);
      run.controller.abort();
      await this.options.messages
        .finish(assistantMessage.id, {
          content: continues?.content ?? '',
          reasoning: continues?.reasoning ?? '',
          status: 'error',
          finishReason: 'error',
          promptTokens: null,
          completionTokens: continues?.completionTokens ?? 0,
        })
        .catch((cause: unknown) => this.options.logger.error({ err: cause, runId }, 'could not close the answer of a run that never started'));
      throw error;
    }
    return { runId, userMessage, assistantMessage };
  }

  private requireAccepting(): void {
    if (!this.accepting) throw new UnavailableError('the chat service is shutting down');
  }

  /**
   * The run's events after `afterSeq`, live until it ends. NotFoundError for someone else's or an
   * unknown run. A run whose log is gone (expired, or lost with a restart) is answered from its
   * stored message (`storedRunEvents`); one still `streaming` there with no owner left is closed
   * first, as the reaper would.
   */
  async attach(ownerId: string, runId: string, afterSeq: number, signal: AbortSignal): Promise<AttachedRun> {
    if (!(await this.options.messages.findRun(ownerId, runId))) throw new NotFoundError('run');
    const { runLog } = this.options;
    // Decided here, not by the caller's timer: an ended run with nothing after `afterSeq` says so at
    // once. The end is checked first: once ended, the log no longer changes, so the read is final.
    const ended = await runLog.ended(runId);
    if (ended === undefined) return this.attachStored(ownerId, runId, afterSeq);
    const state = ended && (await runLog.read(runId, afterSeq))?.length === 0 ? 'nothing_left' : 'streaming';
    return { state, events: state === 'nothing_left' ? noEvents() : this.events(runId, afterSeq, signal) };
  }

  /** `attach` for a run whose log is gone: the stored answer, closed first if nobody owns it any more. */
  private async attachStored(ownerId: string, runId: string, afterSeq: number): Promise<AttachedRun> {
    const { messages, control, logger } = this.options;
    let answer = await messages.findRunAnswer(ownerId, runId);
    if (answer?.status === 'streaming') {
      // Still generating somewhere (its log was lost, not its owner): nothing honest to replay yet.
      if (this.active.has(runId) || (await control.isOwned(runId))) throw new NotFoundError('run');
      if (await messages.closeOrphanedRun(runId, { content: '', reasoning: '' })) {
        logger.warn({ runId }, 'closed a run whose owner and log are gone');
      }
      answer = await messages.findRunAnswer(ownerId, runId);
    }
    if (!answer || answer.status === 'streaming') throw new NotFoundError('run');
    const events = storedRunEvents({ ...answer, runId, assistantMessageId: answer.id, status: answer.status }, afterSeq);
    return { state: 'stored', events: fromArray(events) };
  }

  /**
   * Events of a run (ownership already checked). A reader that hears nothing for a lease period
   * checks that some process still owns the run; if none does, the owner died and the reader closes
   * the run itself, so no client waits forever on a dead replica.
   */
  async *events(runId: string, afterSeq: number, signal: AbortSignal): AsyncIterable<RunEvent> {
    const { runLog, runs } = this.options;
    let lastHeard = Date.now();
    let checking = false;
    const watchdog = setInterval(() => {
      if (checking || Date.now() - lastHeard < runs.ownerLeaseMs || this.active.has(runId)) return;
      checking = true;
      void this.closeIfOrphaned(runId)
        .catch((error: unknown) => this.options.logger.warn({ err: error, runId }, 'could not check the run owner'))
        .finally(() => {
          checking = false;
          lastHeard = Date.now();
        });
    }, Math.max(50, Math.floor(runs.ownerLeaseMs / 2)));
    try {
      for await (const event of runLog.subscribe(runId, afterSeq, { signal })) {
        lastHeard = Date.now();
        yield event;
      }
    } finally {
      clearInterval(watchdog);
    }
  }

  /**
   * Ends the run and resolves once its stopped state is stored, wherever it runs. A finished run:
   * nothing to do. UnavailableError if its owner does not confirm within `runs.stopTimeoutMs`.
   */
  async stop(ownerId: string, runId: string): Promise<void> {
    if (!(await this.options.messages.findRun(ownerId, runId))) throw new NotFoundError('run');
    const run = this.active.get(runId);
    if (run) return this.interrupt(run, 'user');
    const events = await this.options.runLog.read(runId, 0);
    if (!events) {
      // No log for a run whose message exists: it ended long enough ago for its log to expire, or
      // the log was lost under a run still going elsewhere. The broadcast reaches the latter if it
      // exists; there is nothing to wait for.
      await this.options.control.requestStop({ kind: 'run', runId }, 'user').catch(() => undefined);
      return;
    }
    if (events.some((e) => isTerminal(e.event))) return;
    // Listen from where the log is now, then ask: the owner's terminal event is the confirmation.
    const signal = AbortSignal.timeout(this.options.runs.stopTimeoutMs);
    const ended = this.waitForEnd(runId, events.at(-1)?.seq ?? 0, signal);
    await this.options.control.requestStop({ kind: 'run', runId }, 'user');
    if (!(await ended)) throw new UnavailableError('the run did not confirm the stop in time');
  }

  /** Stops the session's runs (it is being deleted): here at once, on other replicas by broadcast. */
  async stopSession(sessionId: string): Promise<void> {
    const local = [...this.active.values()].filter((r) => r.sessionId === sessionId);
    await this.options.control.requestStop({ kind: 'session', sessionId }, 'session_deleted').catch((error: unknown) => {
      this.options.logger.warn({ err: error, sessionId }, 'could not broadcast the session stop; runs on other replicas finish on their own');
    });
    await Promise.all(local.map((r) => this.interrupt(r, 'session_deleted')));
  }

  /** A stop for runs of this process (from any replica, this one included). */
  private stopLocal(target: StopTarget, reason: StopReason): void {
    for (const run of this.active.values()) {
      if (target.kind === 'run' ? run.runId === target.runId : run.sessionId === target.sessionId) void this.interrupt(run, reason);
    }
  }

  /** True once the run's terminal event is in the log; false if `signal` fires first. */
  private async waitForEnd(runId: string, afterSeq: number, signal: AbortSignal): Promise<boolean> {
    try {
      for await (const event of this.events(runId, afterSeq, signal)) if (isTerminal(event.event)) return true;
    } catch (error) {
      if (!signal.aborted) throw error;
    }
    return false;
  }

  /**
   * Closes a run nobody owns any more: the stored answer gets the text its readers saw, and the log
   * its terminal `interrupted` event. Only one party can end a run, so racing readers are harmless.
   */
  private async closeIfOrphaned(runId: string): Promise<void> {
    const { control, runLog, messages, logger } = this.options;
    if (await control.isOwned(runId)) return;
    const events = await runLog.read(runId, 0);
    if (!events || events.some((e) => isTerminal(e.event))) return;
    const seen = { content: '', reasoning: '' };
    for (const { event } of events) {
      if (event?.$case === 'content') seen.content += event.content.text;
      else if (event?.$case === 'reasoning') seen.reasoning += event.reasoning.text;
    }
    const closed = await messages.closeOrphanedRun(runId, seen);
    try {
      await runLog.append(runId, runError('interrupted'));
      logger.warn({ runId, storedAnswer: closed, contentChars: seen.content.length }, 'closed a run whose owner is gone');
    } catch (error) {
      if (!(error instanceof RunEndedError)) throw error;
    }
  }

  /** Takes no new runs, lets running ones finish for up to `graceMs`, then stops the rest as interrupted. */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    const deadline = Date.now() + graceMs;
    while (this.active.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadline - Date.now())));
      await Promise.race([Promise.all([...this.active.values()].map((r) => r.finished)), expired]);
      clearTimeout(timer);
    }
    const left = [...this.active.values()];
    if (left.length > 0) this.options.logger.warn({ runs: left.length }, 'grace period over; interrupting running runs');
    await Promise.all(left.map((r) => this.interrupt(r, 'shutdown')));
  }

  private interrupt(run: ActiveRun, reason: StopReason | 'ended_elsewhere'): Promise<void> {
    run.stopReason ??= reason;
    run.controller.abort();
    return run.finished;
  }

  private async execute(run: ActiveRun): Promise<void> {
    const { messages, runLog, runs, logger: baseLogger } = this.options;
    const logger = baseLogger.child({ runId: run.runId, sessionId: run.sessionId });
    const metrics = this.options.metrics;
    const runStartedAt = performance.now();
    metrics?.runsStarted.inc();
    metrics?.runsActive.inc();
    const writer = new MessageWriter({
      store: metrics ? timedStore(messages, metrics) : messages,
      messageId: run.assistantMessageId,
      flushIntervalMs: runs.flushIntervalMs,
      heartbeatMs: (runs.staleAfterSeconds * 1000) / 3,
      finalRetryForMs: runs.storageOutageMs,
      logger,
      ...(run.continues && { continues: run.continues }),
    });
    const outcome = await this.generate(run, writer, logger);
    const { final, terminal } = conclude(outcome, run);
    setSpanAttributes({ 'freechat.run.status': final.status, 'freechat.run.finish_reason': final.finishReason, ...(final.completionTokens !== null && { 'freechat.run.completion_tokens': final.completionTokens }) });
    let event: RunEventBody;
    try {
      event = terminal(run.assistantMessageId, await writer.finish(final));
    } catch (error) {
      const { content, reasoning } = writer.text;
      const kept = [...content].length + [...reasoning].length;
      logger.error({ err: error, keptChars: kept, retriedForMs: runs.storageOutageMs }, 'could not store the answer');
      event = runError('storage_error', storageErrorMessage(kept));
    }
    try {
      await runLog.append(run.runId, event);
    } catch (error) {
      // Ended elsewhere (closed as orphaned) or the log is away: the stored answer is the record.
      logger.warn({ err: error }, 'could not log the end of the run');
    }
    metrics?.runsActive.dec();
    metrics?.runEnded(runOutcome(event), (performance.now() - runStartedAt) / 1000);
    logger.info({ status: final.status, finishReason: final.finishReason, completionTokens: final.completionTokens }, 'run ended');
  }

  /** Asks the model, retrying once with fewer turns if it says the prompt is too long. Never throws. */
  private async generate(run: ActiveRun, writer: MessageWriter, logger: Logger): Promise<Outcome> {
    const { messages, runs } = this.options;
    // A continued answer's tokens count from where it was cut.
    const state = { completionTokens: run.continues?.completionTokens ?? 0 };
    try {
      // The conversation's own system prompt replaces the configured default; its model is asked for by id.
      const session = await messages.runSettings(run.sessionId);
      const budget = { systemPrompt: session.systemPrompt || runs.systemPrompt, maxPromptTokens: runs.maxPromptTokens };
      // Only as much of the conversation as the budget can reach, never the whole of it.
      const history = await messages.readPromptHistory(
        { sessionId: run.sessionId, userMessageId: run.userMessageId, maxContentBytes: maxUsefulContentBytes(runs.maxPromptTokens) },
        (newestFirst) => historyIsEnough(newestFirst, budget),
      );
      const base = { ...budget, history, userMessageId: run.userMessageId };
      let plan = planPrompt(base);
      for (let attempt = 1; ; attempt++) {
        if (plan.droppedTurns > 0) logger.info({ droppedTurns: plan.droppedTurns, estimatedTokens: plan.estimatedTokens }, 'history cut to fit the prompt');
        try {
          return (await this.stream(run, plan, session.model, writer, state)) ?? { kind: 'stopped', completionTokens: state.completionTokens };
        } catch (error) {
          const retry = error instanceof InferenceCallError && error.kind === 'prompt_too_long' && attempt === 1 && plan.earlierTurns > 0;
          if (!retry) throw error;
          plan = planPrompt({ ...base, maxEarlierTurns: Math.floor(plan.earlierTurns / 2) });
        }
      }
    } catch (error) {
      const { completionTokens } = state;
      if (run.stopReason) return { kind: 'stopped', completionTokens };
      if (error instanceof InferenceCallError) {
        logger.warn({ kind: error.kind, details: error.message }, 'inference failed');
        // How long is too long is what the user needs to fix it: the model's counts go to them too.
        const message = error.kind === 'prompt_too_long' ? promptTooLongMessage(error.message) : undefined;
        return { kind: 'failed', code: FAILURE_CODES[error.kind], completionTokens, ...(message && { message }) };
      }
      logger.error({ err: error }, 'run failed');
      return { kind: 'failed', code: 'internal', completionTokens };
    }
  }

  /** One inference call; undefined when the run was stopped from outside. */
  private async stream(run: ActiveRun, plan: PromptPlan, model: string, writer: MessageWriter, state: { completionTokens: number }): Promise<Outcome | undefined> {
    const { inference, runLog, runs, logger, metrics } = this.options;
    const request = this.generateRequest(run, plan, model);
    let logLost = false;
    // When each delta merged into the next append arrived (monotonic ms): its chat → run-log hop.
    let arrivals: number[] = [];
    const batcher = new DeltaBatcher({
      windowMs: runs.deltaWindowMs,
      maxTokens: runs.deltaMaxTokens,
      flush: async (channel, text) => {
        const merged = arrivals;
        arrivals = [];
        try {
          const appendedAt = nsToTimestamp(BigInt(Date.now()) * 1_000_000n);
          await runLog.append(run.runId, channel === 'reasoning' ? reasoningDelta(text, appendedAt) : contentDelta(text, appendedAt));
          metrics?.runLogAppends.inc();
          if (metrics) {
            const now = performance.now();
            for (const arrived of merged) {
              const seconds = (now - arrived) / 1000;
              metrics.stream.hopSeconds.observe({ hop: 'chat_to_run_log' }, seconds);
              metrics.stream.residenceSeconds.observe(seconds);
            }
          }
        } catch (error) {
          if (error instanceof RunEndedError) return void this.interrupt(run, 'ended_elsewhere');
          // The answer still goes to PostgreSQL in full; live readers get the log's failure.
          if (!logLost) logger.warn({ err: error, runId: run.runId }, 'run log unavailable; the answer is still stored');
          logLost = true;
          throw error;
        }
      },
    });
    try {
      for await (const response of inference.generate(request, run.controller.signal)) {
        // Deltas already in flight when the stop came are not what the user saw: drop them.
        if (run.controller.signal.aborted) return undefined;
        const event = response.event;
        if (event?.$case === 'delta') {
          const { text, channel, tokenCount, emittedAt } = event.delta;
          if (metrics) {
            metrics.stream.observeHop('inference_to_chat', emittedAt && emittedAt.seconds * 1000 + emittedAt.nanos / 1e6, Date.now());
            if (text !== '') arrivals.push(performance.now());
          }
          state.completionTokens += tokenCount;
          if (text === '') continue;
          const reasoning = channel === Channel.CHANNEL_REASONING;
          writer.append(reasoning ? 'reasoning' : 'content', text);
          batcher.push(reasoning ? 'reasoning' : 'content', text, tokenCount);
        } else if (event?.$case === 'done') {
          const usage = event.done.usage;
          // Every delta is in the log before the terminal event is appended.
          await batcher.drain().catch(() => {});
          return {
            kind: 'finished',
            finishReason: FINISH_FROM_INFERENCE.get(event.done.finishReason) ?? 'stop',
            promptTokens: usage?.promptTokens ?? 0,
            completionTokens: usage ? (run.continues?.completionTokens ?? 0) + usage.completionTokens : state.completionTokens,
          };
        }
      }
      if (run.controller.signal.aborted) return undefined;
      throw new InferenceCallError('error', 'the stream ended without done');
    } finally {
      // The log gets everything the writer stores, stopped or not, before any terminal event.
      await batcher.drain().catch(() => {});
    }
  }

  private generateRequest(run: ActiveRun, plan: PromptPlan, model: string): GenerateRequest {
    const defaults = this.options.runs.generation;
    const params = run.input.params;
    const enableThinking = run.input.enableThinking ?? defaults.enableThinking;
    const pick = <K extends keyof GenerationParamsInput & keyof typeof defaults>(key: K) => params?.[key] ?? defaults[key];
    const temperature = pick('temperature');
    const topP = pick('topP');
    const topK = pick('topK');
    const maxNewTokens = pick('maxNewTokens');
    return {
      requestId: run.runId,
      messages: plan.messages.map((m) => ({ role: ROLES[m.role], content: m.content })),
      ...(enableThinking !== undefined && { enableThinking }),
      // Inference takes turns between users, so one user's long prompts cannot hold up another's.
      fairnessKey: `user:${run.input.ownerId}`,
      answerPrefix: run.continues && { reasoning: run.continues.reasoning, content: run.continues.content },
      model,
      sampling: {
        stop: [],
        ...(temperature !== undefined && { temperature }),
        ...(topP !== undefined && { topP }),
        ...(topK !== undefined && { topK }),
        ...(maxNewTokens !== undefined && { maxNewTokens }),
        ...(params?.seed !== undefined && { seed: params.seed }),
      },
    };
  }
}

async function* noEvents(): AsyncIterable<RunEvent> {}

/** The outcome label of a run's terminal event: its finish reason, or its error code. */
function runOutcome(event: RunEventBody): RunOutcome {
  if (event.$case === 'error') return (Object.hasOwn(RUN_ERRORS, event.error.code) ? event.error.code : 'internal') as RunOutcome;
  if (event.$case !== 'done') return 'internal';
  const reason = event.done.finishReason;
  return reason === FinishReason.FINISH_REASON_LENGTH ? 'length' : reason === FinishReason.FINISH_REASON_CANCELLED ? 'stopped' : 'stop';
}

/** The message store, timing each write (freechat_chat_message_persist_seconds). */
function timedStore(store: MessagesRepository, metrics: ChatMetrics): MessageWriterStore {
  const timed = async <T>(operation: 'flush' | 'finish', write: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await write();
    } finally {
      metrics.messagePersistSeconds.observe({ operation }, (performance.now() - started) / 1000);
    }
  };
  return {
    saveProgress: (id, content, reasoning) => timed('flush', () => store.saveProgress(id, content, reasoning)),
    finish: (id, final) => timed('finish', () => store.finish(id, final)),
  };
}

async function* fromArray(events: readonly RunEvent[]): AsyncIterable<RunEvent> {
  yield* events;
}

/** What a client is told when its answer could not be stored: how much it has that nothing else does. */
export function storageErrorMessage(keptChars: number): string {
  return `${RUN_ERRORS.storage_error}; ${keptChars} characters were kept in the live stream only`;
}

/** The error a refused run start is answered with. */
function refusal(refused: RunRefusal): Error {
  if (refused.kind === 'not_found') return new NotFoundError('session');
  if (refused.kind === 'message_not_found') return new NotFoundError('message');
  return refused.code === 'too_many_runs' ? new LimitExceededError(refused.code) : new FailedPreconditionError(refused.code);
}

const ROLES = { system: Role.ROLE_SYSTEM, user: Role.ROLE_USER, assistant: Role.ROLE_ASSISTANT } as const;

/** The stored state and the terminal event for an outcome. Pure. */
function conclude(
  outcome: Outcome,
  run: ActiveRun,
): { final: Omit<FinalState, 'content' | 'reasoning'>; terminal: (messageId: string, timings: AnswerTimings) => RunEventBody } {
  if (outcome.kind === 'finished') {
    const { finishReason, promptTokens, completionTokens } = outcome;
    const status = finishReason === 'cancelled' ? 'stopped' : 'complete';
    const reason = { stop: FinishReason.FINISH_REASON_STOP, length: FinishReason.FINISH_REASON_LENGTH, cancelled: FinishReason.FINISH_REASON_CANCELLED }[finishReason];
    return {
      final: { status, finishReason, promptTokens, completionTokens },
      terminal: (id, timings) => runDone(reason, id, { promptTokens, completionTokens }, timings),
    };
  }
  if (outcome.kind === 'stopped' && run.stopReason !== 'shutdown' && run.stopReason !== 'ended_elsewhere') {
    const { completionTokens } = outcome;
    return {
      final: { status: 'stopped', finishReason: 'cancelled', promptTokens: null, completionTokens },
      terminal: (id, timings) => runDone(FinishReason.FINISH_REASON_CANCELLED, id, { promptTokens: 0, completionTokens }, timings),
    };
  }
  const code = outcome.kind === 'failed' ? outcome.code : 'interrupted';
  const message = outcome.kind === 'failed' ? outcome.message : undefined;
  return {
    final: {
      status: 'error',
      finishReason: 'error',
      promptTokens: null,
      completionTokens: outcome.completionTokens,
      error: { code, ...(message !== undefined && { message }) },
    },
    terminal: () => runError(code, message),
  };
}
