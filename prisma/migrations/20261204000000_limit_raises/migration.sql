-- CreateEnum
CREATE TYPE "LimitClass" AS ENUM ('authoring', 'runtime');

-- CreateTable
CREATE TABLE "limit_raises" (
    "org_id" TEXT NOT NULL,
    "limit_class" "LimitClass" NOT NULL,
    "per_minute" INTEGER NOT NULL,
    "until" TIMESTAMP(3) NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "limit_raises_pkey" PRIMARY KEY ("org_id","limit_class")
);

-- AddForeignKey
ALTER TABLE "limit_raises" ADD CONSTRAINT "limit_raises_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "orgs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

