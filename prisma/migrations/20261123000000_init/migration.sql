-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Plan" AS ENUM ('S', 'M', 'L', 'XL');

-- CreateEnum
CREATE TYPE "SandboxType" AS ENUM ('production', 'development');

-- CreateEnum
CREATE TYPE "ConfigState" AS ENUM ('created', 'updated', 'deployed', 'undeployed');

-- CreateEnum
CREATE TYPE "RuntimeStatus" AS ENUM ('active', 'draining');

-- CreateTable
CREATE TABLE "orgs" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "plan" "Plan" NOT NULL DEFAULT 'S',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "orgs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sandboxes" (
    "id" UUID NOT NULL,
    "org_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" "SandboxType" NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sandboxes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "credentials" (
    "client_id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMP(3),

    CONSTRAINT "credentials_pkey" PRIMARY KEY ("client_id")
);

-- CreateTable
CREATE TABLE "throttling_configs" (
    "uid" UUID NOT NULL,
    "org_id" TEXT NOT NULL,
    "sandbox_id" UUID NOT NULL,
    "sandbox_name" TEXT NOT NULL,
    "name" TEXT,
    "description" TEXT,
    "url_pattern" TEXT NOT NULL,
    "methods" TEXT[],
    "max_throughput" INTEGER NOT NULL,
    "state" "ConfigState" NOT NULL DEFAULT 'created',
    "has_been_deployed" BOOLEAN NOT NULL DEFAULT false,
    "version" TEXT,
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

    CONSTRAINT "throttling_configs_pkey" PRIMARY KEY ("uid")
);

-- CreateTable
CREATE TABLE "runtime_versions" (
    "id" UUID NOT NULL,
    "org_id" TEXT NOT NULL,
    "config_uid" UUID,
    "version" INTEGER NOT NULL,
    "status" "RuntimeStatus" NOT NULL DEFAULT 'active',
    "drain_until" TIMESTAMP(3),
    "url_pattern" TEXT NOT NULL,
    "methods" TEXT[],
    "max_throughput" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "runtime_versions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "sandboxes_org_id_name_key" ON "sandboxes"("org_id", "name");

-- CreateIndex
CREATE INDEX "credentials_org_id_idx" ON "credentials"("org_id");

-- CreateIndex
CREATE UNIQUE INDEX "throttling_configs_org_id_key" ON "throttling_configs"("org_id");

-- CreateIndex
CREATE INDEX "runtime_versions_status_idx" ON "runtime_versions"("status");

-- CreateIndex
CREATE UNIQUE INDEX "runtime_versions_org_id_version_key" ON "runtime_versions"("org_id", "version");

-- AddForeignKey
ALTER TABLE "sandboxes" ADD CONSTRAINT "sandboxes_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "throttling_configs" ADD CONSTRAINT "throttling_configs_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runtime_versions" ADD CONSTRAINT "runtime_versions_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "runtime_versions" ADD CONSTRAINT "runtime_versions_config_uid_fkey" FOREIGN KEY ("config_uid") REFERENCES "throttling_configs"("uid") ON DELETE SET NULL ON UPDATE CASCADE;

