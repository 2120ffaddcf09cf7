// Drives a running 'gale serve' with the official openai client. OpenAiClientTest (JUnit) starts the server on
// stories260K and runs this with GALE_BASE_URL (e.g. http://127.0.0.1:PORT/v1) and GALE_MODEL set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.GALE_BASE_URL;
const model = process.env.GALE_MODEL;
assert.ok(baseURL && model, 'set GALE_BASE_URL and GALE_MODEL');
const client = new OpenAI({ baseURL, apiKey: 'not-needed', maxRetries: 0, timeout: 60_000 });

const messages = [
  { role: 'system', content: 'You tell short stories.' },
  { role: 'user', content: 'Once upon a time there was a little cat.' },
];

test('lists the served model', async () => {
  const page = await client.models.list();
  assert.deepEqual(page.data.map((m) => m.id), [model]);
});

test('non-streamed chat completion', async () => {
  const r = await client.chat.completions.create({ model, messages, max_tokens: 20, temperature: 0 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.ok(r.choices[0].message.content.length > 0);
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 20);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 20);
});

test('streamed chat completion matches the non-streamed one', async () => {
  const whole = await client.chat.completions.create({ model, messages, max_tokens: 20, temperature: 0 });
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 20, temperature: 0, stream: true });
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    const choice = chunk.choices[0];
    text += choice.delta.content ?? '';
    if (choice.finish_reason) {
      finish = choice.finish_reason;
      usage = chunk.usage;
    }
  }
  assert.ok(chunks > 2, 'the reply arrived in pieces');
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 20);
});

test('text completion with a stop string', async () => {
  const full = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 30, temperature: 0 });
  const text = full.choices[0].text;
  const stop = text.slice(10, 14);
  const r = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 30, temperature: 0, stop });
  assert.equal(r.choices[0].text, text.slice(0, text.indexOf(stop)));
  assert.equal(r.choices[0].finish_reason, 'stop');
});

test('errors come back as OpenAI errors', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'no-such-model', messages }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.code === 'model_not_found' && e.param === 'model',
  );
  await assert.rejects(
    client.chat.completions.create({ model, messages, n: 2 }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'n',
  );
  await assert.rejects(
    client.chat.completions.create({ model, messages: [] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages',
  );
});
