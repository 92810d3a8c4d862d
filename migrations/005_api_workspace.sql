-- The team workspace for terminals that reach Supabase through its REST API
-- (PostgREST) instead of Redis: watchlists, alerts, layouts and notes, one row
-- each, and what the API roles may touch.
--
-- A row with a team_id belongs to that whole team, as a Redis workspace does:
-- every member reads, changes and deletes it. A row without one is its owner's
-- alone. `owner` is whoever created the row and never changes; `updated_by` and
-- `updated_at` say who changed it last and when (set by the trigger, not the
-- client). The terminal writes `body` as the same JSON it keeps in Redis.

CREATE TABLE public.workspace_items (
  team_id uuid REFERENCES public.teams (id) ON DELETE CASCADE,
  owner uuid NOT NULL DEFAULT auth.uid(),
  scope uuid GENERATED ALWAYS AS (coalesce(team_id, owner)) STORED,
  kind text NOT NULL CHECK (kind IN ('watchlist', 'alert', 'layout', 'note')),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  body jsonb NOT NULL,
  updated_by uuid,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, kind, name)
);
CREATE INDEX workspace_items_team ON public.workspace_items (team_id);

CREATE FUNCTION quantdesk.stamp_workspace_item() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
  BEGIN
    IF TG_OP = 'UPDATE' THEN
      NEW.owner := OLD.owner;
    END IF;
    NEW.updated_by := auth.uid();
    NEW.updated_at := now();
    RETURN NEW;
  END
  $$;
CREATE TRIGGER workspace_items_stamp BEFORE INSERT OR UPDATE ON public.workspace_items
  FOR EACH ROW EXECUTE FUNCTION quantdesk.stamp_workspace_item();

ALTER TABLE public.workspace_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.workspace_items FORCE ROW LEVEL SECURITY;
CREATE POLICY workspace_items_select ON public.workspace_items FOR SELECT TO authenticated
  USING (CASE WHEN team_id IS NULL THEN owner = auth.uid() ELSE quantdesk.is_team_member(team_id) END);
CREATE POLICY workspace_items_insert ON public.workspace_items FOR INSERT TO authenticated
  WITH CHECK (owner = auth.uid() AND (team_id IS NULL OR quantdesk.is_team_member(team_id)));
CREATE POLICY workspace_items_update ON public.workspace_items FOR UPDATE TO authenticated
  USING (CASE WHEN team_id IS NULL THEN owner = auth.uid() ELSE quantdesk.is_team_member(team_id) END)
  WITH CHECK (CASE WHEN team_id IS NULL THEN owner = auth.uid() ELSE quantdesk.is_team_member(team_id) END);
CREATE POLICY workspace_items_delete ON public.workspace_items FOR DELETE TO authenticated
  USING (CASE WHEN team_id IS NULL THEN owner = auth.uid() ELSE quantdesk.is_team_member(team_id) END);
GRANT SELECT, INSERT, UPDATE, DELETE ON public.workspace_items TO authenticated;

-- Supabase grants every new table in `public` to `anon` (the role of a request
-- that carries only the anon key). Row-level security already shows it
-- nothing; revoking makes the refusal explicit. The migrations bookkeeping is
-- nobody's business through the API.
REVOKE ALL ON public.teams, public.team_members, public.intents, public.risk_events, public.orders,
  public.cancels, public.fills, public.funding_payments, public.liquidations, public.positions,
  public.accounts, public.alerts, public.layouts, public.workspace_items FROM anon;
REVOKE ALL ON public.schema_migrations FROM anon, authenticated;

-- Supabase Realtime sends a table's changes only when it is in this
-- publication (which exists on Supabase, not on plain PostgreSQL).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
    ALTER PUBLICATION supabase_realtime ADD TABLE public.workspace_items;
  END IF;
END
$$;
