-- CreateTable
CREATE TABLE "capping_configs" (
    "uid" UUID NOT NULL,
    "org_id" TEXT NOT NULL,
    "sandbox_id" UUID NOT NULL,
    "sandbox_name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "methods" TEXT[],
    "services" JSONB NOT NULL,
    "state" "ConfigState" NOT NULL DEFAULT 'created',
    "ever_updated" BOOLEAN NOT NULL DEFAULT false,
    "has_been_deployed" BOOLEAN NOT NULL DEFAULT false,
    "deployed_config" JSONB,
    "created_by" TEXT NOT NULL,
    "created_by_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_modified_by" TEXT NOT NULL,
    "last_modified_by_id" TEXT NOT NULL,
    "last_modified_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_deployed_by" TEXT,
    "last_deployed_by_id" TEXT,
    "last_deployed_at" TIMESTAMP(3),

    CONSTRAINT "capping_configs_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "capping_runtimes" (
    "id" UUID NOT NULL,
    "org_id" TEXT NOT NULL,
    "config_uid" UUID,
    "status" "RuntimeStatus" NOT NULL DEFAULT 'active',
    "drain_until" TIMESTAMP(3),
    "version" INTEGER NOT NULL DEFAULT 1,
    "url" TEXT NOT NULL,
    "methods" TEXT[],
    "services" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "capping_runtimes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "capping_configs_org_id_idx" ON "capping_configs"("org_id");

-- CreateIndex
CREATE UNIQUE INDEX "capping_runtimes_config_uid_key" ON "capping_runtimes"("config_uid");

-- CreateIndex
CREATE INDEX "capping_runtimes_org_id_status_idx" ON "capping_runtimes"("org_id", "status");

-- AddForeignKey
ALTER TABLE "capping_configs" ADD CONSTRAINT "capping_configs_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "capping_runtimes" ADD CONSTRAINT "capping_runtimes_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "capping_runtimes" ADD CONSTRAINT "capping_runtimes_config_uid_fkey" FOREIGN KEY ("config_uid") REFERENCES "capping_configs"("uid") ON DELETE SET NULL ON UPDATE CASCADE;

