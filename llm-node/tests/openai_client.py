"""The real `openai` Python client against a running cb-llm-node (URL and model as arguments):
chat, streaming with usage, text completions, a json_schema answer that parses and validates, a
forced tool call, and errors. Prints one line per check; exits non-zero on the first failure."""

import json
import sys

import jsonschema
import openai

url, model = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=url, api_key="test-key")
messages = [{"role": "user", "content": "How much CO2 does steel emit?"}]

r = client.chat.completions.create(model=model, messages=messages, max_tokens=8, temperature=0)
assert r.object == "chat.completion" and r.choices[0].message.role == "assistant", r
assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens, r.usage
print("chat ok:", repr(r.choices[0].message.content))

pieces, usage = [], None
for chunk in client.chat.completions.create(model=model, messages=messages, max_tokens=8, temperature=0,
                                            stream=True, stream_options={"include_usage": True}):
    if chunk.usage is not None:
        usage = chunk.usage
    for c in chunk.choices:
        if c.delta.content:
            pieces.append(c.delta.content)
assert "".join(pieces) == r.choices[0].message.content, (pieces, r.choices[0].message.content)
assert usage is not None and usage.completion_tokens == r.usage.completion_tokens, usage
print("stream ok:", len(pieces), "pieces")

c = client.completions.create(model=model, prompt="The footprint of steel", max_tokens=5, temperature=0, logprobs=2)
assert c.object == "text_completion" and len(c.choices[0].logprobs.tokens) == c.usage.completion_tokens, c
print("completions ok:", repr(c.choices[0].text))

schema = {"type": "object", "properties": {"country": {"type": "string", "maxLength": 10}, "year": {"type": "integer", "minimum": 1750, "maximum": 2100},
                                           "co2_mt": {"type": "number", "minimum": 0, "maximum": 1e6}, "source": {"enum": ["GCB", "EDGAR"]}},
          "required": ["country", "year", "co2_mt", "source"], "additionalProperties": False}
r = client.chat.completions.create(model=model, messages=messages, max_tokens=300, seed=4,
                                   response_format={"type": "json_schema",
                                                    "json_schema": {"name": "answer", "schema": schema, "strict": True}})
answer = json.loads(r.choices[0].message.content)
jsonschema.validate(answer, schema)
print("json_schema ok:", answer)

tools = [{"type": "function", "function": {"name": "national_accounts", "description": "CO2 accounts of a country",
          "parameters": {"type": "object", "properties": {"country": {"type": "string", "maxLength": 3},
                                                          "year": {"type": "integer", "minimum": 1750, "maximum": 2100}},
                         "required": ["country", "year"], "additionalProperties": False}}}]
r = client.chat.completions.create(model=model, messages=messages, max_tokens=200, seed=2, tools=tools,
                                   tool_choice={"type": "function", "function": {"name": "national_accounts"}})
call = r.choices[0].message.tool_calls[0]
assert call.function.name == "national_accounts" and r.choices[0].finish_reason == "tool_calls", r
jsonschema.validate(json.loads(call.function.arguments), tools[0]["function"]["parameters"])
print("tool call ok:", call.function.arguments)

try:
    client.chat.completions.create(model="no-such-model", messages=messages)
    raise SystemExit("an unknown model was accepted")
except openai.NotFoundError as e:
    assert e.status_code == 404 and e.body["code"] == "model_not_found", e.body
try:
    client.chat.completions.create(model=model, messages=messages, temperature=5)
    raise SystemExit("temperature 5 was accepted")
except openai.BadRequestError as e:
    assert e.body["param"] == "temperature", e.body
try:
    openai.OpenAI(base_url=url, api_key="wrong").models.list()
    raise SystemExit("a wrong key was accepted")
except openai.AuthenticationError as e:
    assert e.status_code == 401
print("errors ok")
assert [m.id for m in client.models.list().data] == [model]
print("all ok")
