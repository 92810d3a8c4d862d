-- The trading journal, pushed from each terminal's local SQLite journal
-- through its outbox. Row ids come from the local journal (a uuid, or
-- venue:order_id / venue:fill_id), so they are unique per owner, not globally:
-- the key is (owner, id) and the syncer upserts ON CONFLICT (owner, id).
-- Amounts are integers at the market's precision (price 1e6, size 1e9), kept as
-- numeric so no market can overflow them; ts columns are ns since the epoch.

CREATE TABLE public.intents (
  id text NOT NULL,
  owner uuid NOT NULL DEFAULT auth.uid(),
  team_id uuid REFERENCES public.teams (id) ON DELETE SET NULL,
  ts bigint NOT NULL,
  venue text NOT NULL,
  market text NOT NULL,
  side text NOT NULL,
  type text NOT NULL,
  size numeric NOT NULL,
  price numeric NOT NULL DEFAULT 0,
  trigger_price numeric NOT NULL DEFAULT 0,
  post_only boolean NOT NULL DEFAULT false,
  reduce_only boolean NOT NULL DEFAULT false,
  ioc boolean NOT NULL DEFAULT false,
  client_id text NOT NULL DEFAULT '',
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, id)
);

CREATE TABLE public.risk_events (
  id text NOT NULL,
  owner uuid NOT NULL DEFAULT auth.uid(),
  team_id uuid REFERENCES public.teams (id) ON DELETE SET NULL,
  intent_id text NOT NULL,
  ts bigint NOT NULL,
  accepted boolean NOT NULL,
  reason text NOT NULL DEFAULT '',
  limit_name text NOT NULL DEFAULT '',
  limit_value text NOT NULL DEFAULT '',
  excess text NOT NULL DEFAULT '',
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, id)
);

CREATE TABLE public.orders (
  id text NOT NULL,
  owner uuid NOT NULL DEFAULT auth.uid(),
  team_id uuid REFERENCES public.teams (id) ON DELETE SET NULL,
  venue text NOT NULL,
  market text NOT NULL,
  order_id text NOT NULL,
  side text NOT NULL,
  type text NOT NULL,
  size numeric NOT NULL,
  price numeric NOT NULL DEFAULT 0,
  trigger_price numeric NOT NULL DEFAULT 0,
  filled numeric NOT NULL DEFAULT 0,
  status text NOT NULL,
  post_only boolean NOT NULL DEFAULT false,
  reduce_only boolean NOT NULL DEFAULT false,
  ioc boolean NOT NULL DEFAULT false,
  client_id text NOT NULL DEFAULT '',
  ts bigint NOT NULL DEFAULT 0,
  reason text NOT NULL DEFAULT '',
  updated_ts bigint NOT NULL DEFAULT 0,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, id)
);
CREATE INDEX orders_status ON public.orders (owner, status);

CREATE TABLE public.cancels (
  id text NOT NULL,
  owner uuid NOT NULL DEFAULT auth.uid(),
  team_id uuid REFERENCES public.teams (id) ON DELETE SET NULL,
  ts bigint NOT NULL,
  venue text NOT NULL,
  order_id text NOT NULL,
  reason text NOT NULL DEFAULT '',
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, id)
);

CREATE TABLE public.fills (
  id text NOT NULL,
  owner uuid NOT NULL DEFAULT auth.uid(),
  team_id uuid REFERENCES public.teams (id) ON DELETE SET NULL,
  venue text NOT NULL,
  market text NOT NULL,
  order_id text NOT NULL,
  fill_id text NOT NULL,
  side text NOT NULL,
  price numeric NOT NULL,
  size numeric NOT NULL,
  fee numeric NOT NULL,
  liquidity text NOT NULL,
  ts bigint NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, id)
);
CREATE INDEX fills_ts ON public.fills (owner, ts);

CREATE TABLE public.funding_payments (
  id text NOT NULL,
  owner uuid NOT NULL DEFAULT auth.uid(),
  team_id uuid REFERENCES public.teams (id) ON DELETE SET NULL,
  venue text NOT NULL,
  market text NOT NULL,
  amount numeric NOT NULL,
  rate numeric NOT NULL,
  ts bigint NOT NULL,
  kind text NOT NULL DEFAULT 'funding' CHECK (kind IN ('funding', 'borrow')),
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, id)
);

CREATE TABLE public.liquidations (
  id text NOT NULL,
  owner uuid NOT NULL DEFAULT auth.uid(),
  team_id uuid REFERENCES public.teams (id) ON DELETE SET NULL,
  venue text NOT NULL,
  market text NOT NULL,
  base numeric NOT NULL,
  price numeric NOT NULL,
  fee numeric NOT NULL,
  ts bigint NOT NULL,
  reason text NOT NULL DEFAULT '',
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, id)
);

-- Latest snapshots (one row per venue/market and per venue).
CREATE TABLE public.positions (
  id text NOT NULL,
  owner uuid NOT NULL DEFAULT auth.uid(),
  team_id uuid REFERENCES public.teams (id) ON DELETE SET NULL,
  venue text NOT NULL,
  market text NOT NULL,
  base numeric NOT NULL,
  quote_entry numeric NOT NULL,
  entry_price numeric NOT NULL,
  mark_price numeric NOT NULL DEFAULT 0,
  unrealized_pnl numeric NOT NULL DEFAULT 0,
  realized_pnl numeric NOT NULL DEFAULT 0,
  liquidation_price numeric,
  margin numeric NOT NULL DEFAULT 0,
  leverage_bps bigint NOT NULL DEFAULT 0,
  ts bigint NOT NULL DEFAULT 0,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, id)
);

CREATE TABLE public.accounts (
  id text NOT NULL,
  owner uuid NOT NULL DEFAULT auth.uid(),
  team_id uuid REFERENCES public.teams (id) ON DELETE SET NULL,
  venue text NOT NULL,
  ts bigint NOT NULL,
  collateral numeric NOT NULL,
  equity numeric NOT NULL,
  free_collateral numeric NOT NULL,
  margin_requirement numeric NOT NULL,
  health integer NOT NULL,
  leverage_bps bigint NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (owner, id)
);

SELECT quantdesk.secure_owned_table(t)
FROM unnest(ARRAY[
  'public.intents', 'public.risk_events', 'public.orders', 'public.cancels', 'public.fills',
  'public.funding_payments', 'public.liquidations', 'public.positions', 'public.accounts'
]::regclass[]) AS t;
